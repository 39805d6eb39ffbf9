// Foreground/background events from the system rather than from a hook: a
// real cgroup v2 cgroup frozen and thawed through cgroup.freeze, and desktop
// focus marked with the user.xdg.inactive-since xattr on a unit's cgroup.
// The cgroups are the test's own, in a cgroup2 mount of its own (the same
// hierarchy as the host's: nothing but what the test creates is touched).
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "bus_label.hpp"
#include "damond_proxies.hpp"
#include "private_bus.hpp"

using namespace damond::testing;

namespace {

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    out.flush();
    ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// A directory in a cgroup2 mount made for the test, with the cgroups the
// test creates under it; all of them are emptied and removed at the end.
class TestCgroups {
public:
    TestCgroups() {
        if (::mount("none", mnt_.path().c_str(), "cgroup2", 0, nullptr) != 0) {
            reason_ = std::string("cannot mount cgroup2: ") + strerror(errno);
            return;
        }
        mounted_ = true;
        root_ = mnt_.path() + "/damond-test-" + std::to_string(getpid());
        if (::mkdir(root_.c_str(), 0755) != 0) reason_ = "cannot create " + root_ + ": " + strerror(errno);
    }
    ~TestCgroups() {
        if (!root_.empty()) remove_tree(root_);
        if (mounted_) ::umount2(mnt_.path().c_str(), MNT_DETACH);
    }
    const std::string& unusable() const { return reason_; }
    const std::string& root() const { return root_; }
    std::string make(const std::string& rel) const {
        const std::string dir = root_ + "/" + rel;
        EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir << ": " << strerror(errno);
        return dir;
    }
    // Kills what is inside (thawed first, so it can die) and removes it.
    static void remove_tree(const std::string& dir) {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir, ec))
            if (e.is_directory()) remove_tree(e.path());
        std::ofstream(dir + "/cgroup.freeze") << "0";
        std::ofstream(dir + "/cgroup.kill") << "1";
        for (int i = 0; i < 200 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

private:
    TempDir mnt_;
    bool mounted_ = false;
    std::string root_, reason_;
};

const char* kProfiles = R"(
  "backend": "inprocess",
  "profiles": {
    "fine":   {"ops": "synthetic", "intervals": {"sample_us": 100000, "aggr_us": 1000000},
               "targets": [{"regions": [{"start": 0, "end": 16777216}]}]},
    "coarse": {"ops": "synthetic", "intervals": {"sample_us": 200000, "aggr_us": 2000000},
               "targets": [{"regions": [{"start": 0, "end": 16777216}]}]}
  },)";

class AppEvents : public ::testing::Test {
protected:
    void start_damond(const std::string& apps_json) {
        const std::string config = std::string("{") + kProfiles + R"( "apps": )" + apps_json + "}";
        damond_ = damond::testing::start_damond(bus_, dir_.write("c.json", config), dir_.path() + "/log");
        ASSERT_TRUE(damond_) << read_file(dir_.path() + "/log");
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_.address().c_str(), 1);
    }
    void TearDown() override {
        if (damond_) {
            damond_->signal(SIGTERM);
            EXPECT_EQ(damond_->wait_exit(10000), 0);
        }
        if (HasFailure()) std::cerr << "--- damond log ---\n" << read_file(dir_.path() + "/log");
    }
    std::string running_context(ManagerProxy& m, const std::string& app) {
        std::string out;
        for (const auto& c : m.ListContexts())
            if (c.get<0>().rfind(app + "@", 0) == 0 && c.get<2>() == "running") out += c.get<0>();
        return out;
    }

    PrivateBus bus_;
    TempDir dir_;
    std::unique_ptr<Child> damond_;
};

}  // namespace

TEST_F(AppEvents, FreezingAnAppsCgroupSendsItToTheBackgroundAndThawingBack) {
    TestCgroups cg;
    if (!cg.unusable().empty()) GTEST_SKIP() << cg.unusable();
    const std::string app_cg = cg.make("org.example.Frozen");
    Child sleeper({"/bin/sleep", "600"}, {}, dir_.path() + "/sleeper.log");
    Child helper({"/bin/sleep", "600"}, {}, dir_.path() + "/helper.log");
    write_text(app_cg + "/cgroup.procs", std::to_string(sleeper.pid()));
    write_text(app_cg + "/cgroup.procs", std::to_string(helper.pid()));
    start_damond(R"({"default": {"foreground": "fine", "background": "coarse"},
                     "freezer": [{"cgroup": ")" +
                 app_cg + R"(", "app_id": "org.example.Frozen"}]})");
    ManagerProxy m;
    // Not frozen at start: registered with the cgroup's process, in the foreground.
    ASSERT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Frozen") == "foreground"; }));
    AppProxy app(damond::app_object_path("org.example.Frozen"));
    std::vector<uint32_t> pids = app.Pids(), expected{uint32_t(sleeper.pid()), uint32_t(helper.pid())};
    std::sort(pids.begin(), pids.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(pids, expected);
    EXPECT_EQ(running_context(m, "org.example.Frozen"), "org.example.Frozen@foreground");

    for (int round = 0; round < 3; ++round) {
        write_text(app_cg + "/cgroup.freeze", "1");
        EXPECT_TRUE(
            wait_until([&] { return read_file(app_cg + "/cgroup.events").find("frozen 1") != std::string::npos; }));
        EXPECT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Frozen") == "background"; })) << round;
        EXPECT_EQ(running_context(m, "org.example.Frozen"), "org.example.Frozen@background");
        write_text(app_cg + "/cgroup.freeze", "0");
        EXPECT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Frozen") == "foreground"; })) << round;
        EXPECT_EQ(running_context(m, "org.example.Frozen"), "org.example.Frozen@foreground");
    }
    {
        std::lock_guard<std::mutex> lock(m.mu);
        EXPECT_EQ(m.app_changes, 6);  // once per change, none for "populated" or repeats
    }
    // The processes in the cgroup are the app's: when the last dies, the app goes.
    helper.signal(SIGKILL);
    EXPECT_TRUE(wait_until([&] { return app.Pids().size() == 1; }));
    EXPECT_EQ(app_state_of(m, "org.example.Frozen"), "foreground");
    sleeper.signal(SIGKILL);
    EXPECT_TRUE(m.events.wait_for("app org.example.Frozen foreground->gone", 1000));
    EXPECT_EQ(app_state_of(m, "org.example.Frozen"), "");
}

TEST_F(AppEvents, DesktopFocusFollowsTheInactiveSinceXattrOfAppUnits) {
    TestCgroups cg;
    if (!cg.unusable().empty()) GTEST_SKIP() << cg.unusable();
    const std::string slice = cg.make("app.slice");
    const std::string editor = cg.make("app.slice/app-gnome-org.example.Editor-4242.scope");
    Child editor_process({"/bin/sleep", "600"}, {}, dir_.path() + "/editor.log");
    write_text(editor + "/cgroup.procs", std::to_string(editor_process.pid()));
    start_damond(R"({"default": {"foreground": "fine", "background": "coarse"},
                     "desktop": {"app_slices": [")" +
                 cg.root() + R"(/app*.slice"]}})");
    ManagerProxy m;
    // No xattr: focused.
    ASSERT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Editor") == "foreground"; }));

    const std::string since = "1764100000000000";
    ASSERT_EQ(setxattr(editor.c_str(), "user.xdg.inactive-since", since.data(), since.size(), 0), 0) << strerror(errno);
    EXPECT_TRUE(m.events.wait_for("app org.example.Editor foreground->background"));
    EXPECT_EQ(running_context(m, "org.example.Editor"), "org.example.Editor@background");
    ASSERT_EQ(removexattr(editor.c_str(), "user.xdg.inactive-since"), 0);
    EXPECT_TRUE(m.events.wait_for("app org.example.Editor background->foreground"));
    EXPECT_EQ(running_context(m, "org.example.Editor"), "org.example.Editor@foreground");
    // "-1" means focused as well.
    ASSERT_EQ(setxattr(editor.c_str(), "user.xdg.inactive-since", since.data(), since.size(), 0), 0);
    EXPECT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Editor") == "background"; }));
    ASSERT_EQ(setxattr(editor.c_str(), "user.xdg.inactive-since", "-1", 2, 0), 0);
    EXPECT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Editor") == "foreground"; }));

    // A unit that starts later is a new app, once its first process is in
    // (systemd makes the cgroup first); when the unit ends, the app goes.
    const std::string viewer = cg.make("app.slice/app-org.example.Viewer@1.service");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(app_state_of(m, "org.example.Viewer"), "") << "registered without a process";
    Child viewer_process({"/bin/sleep", "600"}, {}, dir_.path() + "/viewer.log");
    write_text(viewer + "/cgroup.procs", std::to_string(viewer_process.pid()));
    EXPECT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Viewer") == "foreground"; }));
    AppProxy viewer_app(damond::app_object_path("org.example.Viewer"));
    EXPECT_EQ(viewer_app.Pids(), std::vector<uint32_t>{uint32_t(viewer_process.pid())});
    EXPECT_EQ(app_state_of(m, "org.example.Editor"), "background");  // one foreground app at a time
    TestCgroups::remove_tree(viewer);
    EXPECT_TRUE(m.events.wait_for("app org.example.Viewer foreground->gone"));
    EXPECT_EQ(app_state_of(m, "org.example.Viewer"), "");
}

// A user who logs in after damond started: their user-N.slice, user@N.service
// and app.slice appear later, each one level at a time, as systemd makes
// them. damond watches the way to them and finds the app all the same; after
// a log-out and a new log-in, again.
TEST_F(AppEvents, DesktopSlicesThatAppearAfterTheStartAreWatched) {
    TestCgroups cg;
    if (!cg.unusable().empty()) GTEST_SKIP() << cg.unusable();
    cg.make("user.slice");
    start_damond(R"({"default": {"foreground": "fine", "background": "coarse"},
                     "desktop": {"app_slices": [")" +
                 cg.root() + R"(/user.slice/user-*.slice/user@*.service/app.slice"]}})");
    ManagerProxy m;
    for (int login = 0; login < 2; ++login) {
        cg.make("user.slice/user-1000.slice");
        cg.make("user.slice/user-1000.slice/user@1000.service");
        cg.make("user.slice/user-1000.slice/user@1000.service/app.slice");
        const std::string editor =
            cg.make("user.slice/user-1000.slice/user@1000.service/app.slice/app-org.example.Editor-7.scope");
        Child process({"/bin/sleep", "600"}, {}, dir_.path() + "/editor.log");
        write_text(editor + "/cgroup.procs", std::to_string(process.pid()));
        ASSERT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Editor") == "foreground"; }))
            << "login " << login;
        const std::string since = "1764100000000000";
        ASSERT_EQ(setxattr(editor.c_str(), "user.xdg.inactive-since", since.data(), since.size(), 0), 0)
            << strerror(errno);
        EXPECT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Editor") == "background"; }))
            << "login " << login;
        // Log-out: the whole user slice goes.
        TestCgroups::remove_tree(cg.root() + "/user.slice/user-1000.slice");
        EXPECT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Editor").empty(); })) << "login " << login;
    }
}

// An app an event source finds is registered for the user whose cgroup holds
// it (here Android's uid_<uid>), and watched only where that user may watch:
// root's process in the same cgroup is passed over, and the regions are the
// user's to read, not another's (docs/service.md, "Privacy").
TEST(AppEventsPrivacy, AnAppFoundInAUsersCgroupIsThatUsersAndWatchesOnlyItsProcesses) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run processes as another user";
    TestCgroups cg;
    if (!cg.unusable().empty()) GTEST_SKIP() << cg.unusable();
    TempDir dir_;
    chmod(dir_.path().c_str(), 0755);
    // Other users may connect only to a bus with a policy: the shipped one.
    PrivateBus bus_(env_or("DAMOND_POLICY", "systemd/org.damond1.conf"));
    cg.make("uid_65534");
    const std::string app_cg = cg.make("uid_65534/pid_1");
    Child roots({"/bin/sleep", "600"}, {}, dir_.path() + "/roots.log");
    Child users({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sleep", "600"}, {},
                dir_.path() + "/users.log");
    write_text(app_cg + "/cgroup.procs", std::to_string(roots.pid()));
    write_text(app_cg + "/cgroup.procs", std::to_string(users.pid()));
    const std::string config = R"({"backend": "inprocess",
      "profiles": {"p": {"ops": "vaddr", "intervals": {"sample_us": 5000, "aggr_us": 50000}}},
      "apps": {"default": {"foreground": "p", "background": "p"},
               "freezer": [{"cgroup": ")" +
                               app_cg + R"(", "app_id": "org.example.Users"}]}})";
    auto damond = damond::testing::start_damond(bus_, dir_.write("c.json", config), dir_.path() + "/log");
    ASSERT_TRUE(damond) << read_file(dir_.path() + "/log");
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_.address().c_str(), 1);
    ManagerProxy m;
    ASSERT_TRUE(wait_until([&] { return app_state_of(m, "org.example.Users") == "foreground"; }))
        << read_file(dir_.path() + "/log");
    const std::string ctx = damond::context_object_path("org.example.Users@foreground");
    const std::string busctl = env_or("BUSCTL", "/usr/bin/busctl");
    const CommandResult spec = run_command(
        {busctl, "--address=" + bus_.address(), "get-property", "org.damond1", ctx, "org.damond1.Context", "Spec"});
    EXPECT_NE(spec.out.find("\\\"pid_target\\\":" + std::to_string(users.pid())), std::string::npos) << spec.out;
    auto snapshot_as = [&](const std::string& uid) {
        return run_command({"/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", busctl,
                            "--address=" + bus_.address(), "call", "org.damond1", ctx, "org.damond1.Context",
                            "Snapshot"});
    };
    EXPECT_EQ(snapshot_as("65534").exit_code, 0) << snapshot_as("65534").out;
    const CommandResult other = snapshot_as("2");
    EXPECT_NE(other.exit_code, 0);
    EXPECT_NE(other.out.find("Access denied"), std::string::npos) << other.out;
    unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    damond->signal(SIGTERM);
    EXPECT_EQ(damond->wait_exit(10000), 0);
}
