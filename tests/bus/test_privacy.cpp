// Access patterns are private (docs/service.md, "Privacy"): real clients
// running as other users (setpriv) through the shipped bus policy, polkit
// played by a double, on the in-process backend and on the emulated 7.2
// tree. uid 65534 (nobody) is a member of the configured group (nogroup);
// uid 2 (bin) is not.
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bus_label.hpp"
#include "emu_daemon.hpp"
#include "fake_polkit.hpp"

using namespace damond::testing;
using nlohmann::json;

namespace {

constexpr uid_t kMember = 65534;
constexpr uid_t kOther = 2;  // bin: the bus refuses uids without a user

// A process that sleeps until killed, as root or as `uid` (gid the same);
// with `hold`, it first waits for release() and then execs `then`.
struct Process {
    pid_t pid = -1;
    int gate[2] = {-1, -1};
    explicit Process(uid_t uid, const std::string& then = "") {
        if (pipe(gate) != 0) return;
        pid = fork();
        if (pid == 0) {
            if (uid != 0 && (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0)) _exit(126);
            close(gate[1]);
            // Through exec (a process that changed its ids is not dumpable
            // until it execs): a shell that waits, then runs `then`.
            if (!then.empty() && dup2(gate[0], 0) == 0)
                execl("/bin/sh", "sh", "-c", "read x; exec \"$0\" 600", then.c_str(), nullptr);
            execl("/bin/sleep", "sleep", "600", nullptr);
            _exit(127);
        }
        close(gate[0]);
        // Ready once it runs as `uid` through an exec: its /proc files are
        // then its own (before, it is root's, or changed ids and is not
        // dumpable), which is what damond looks at.
        const std::string status = "/proc/" + std::to_string(pid) + "/status";
        wait_until(
            [&] {
                struct stat st {};
                return stat(status.c_str(), &st) == 0 && st.st_uid == uid &&
                       read_file("/proc/" + std::to_string(pid) + "/comm").rfind(then.empty() ? "sleep" : "sh", 0) == 0;
            },
            5000);
    }
    void release() const { (void)!write(gate[1], "x\n", 2); }
    ~Process() {
        close(gate[1]);
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
};

std::string config_for(const std::string& backend) {
    return R"({"backend": ")" + backend + R"(",
  "authorization": {"group": "nogroup", "polkit": true},
  "profiles": {"p": {"ops": "vaddr", "intervals": {"sample_us": 5000, "aggr_us": 50000}}},
  "apps": {"default": {"foreground": "p", "background": "p"}, "max_apps": 4},
  "contexts": {}})";
}

std::string vaddr_spec(pid_t pid, bool with_regions = false) {
    json target = {{"pid_target", pid}};
    if (with_regions) target["regions"] = json::array({{{"start", 65536}, {"end", 1048576}}});
    return json{{"ops", "vaddr"}, {"intervals", {{"sample_us", 5000}, {"aggr_us", 50000}}}, {"targets", {target}}}
        .dump();
}

const char* kPaddrSpec = R"({"ops": "paddr", "intervals": {"sample_us": 5000, "aggr_us": 50000},
  "targets": [{"regions": [{"start": 16777216, "end": 268435456}]}]})";

std::string path_of(const std::string& name) { return damond::context_object_path(name); }

class Privacy : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root to run clients as other users";
        if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
        chmod(files.path().c_str(), 0755);
        bus = std::make_unique<PrivateBus>(
            files.write("policy.conf", policy_with_polkit(env_or("DAMOND_POLICY", "systemd/org.damond1.conf"))));
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus->address().c_str(), 1);
        polkit = std::make_unique<FakePolkit>(std::set<std::string>{});
        emu = std::make_unique<Emulator>("7.2");
        damond = std::make_unique<Damond>(*emu, GetParam(), true, config_for(GetParam()), "", bus.get());
        ASSERT_TRUE(damond->up) << damond->log();
    }
    void TearDown() override { unsetenv("DBUS_SYSTEM_BUS_ADDRESS"); }

    std::vector<std::string> as(uid_t uid) const {
        if (uid == 0) return {};
        const std::string id = std::to_string(uid);
        return {"/usr/bin/setpriv", "--reuid=" + id, "--regid=" + id,
                "--clear-groups",   "/usr/bin/env",  "DBUS_SYSTEM_BUS_ADDRESS=" + bus->address()};
    }
    // busctl as `uid`: exit code and output.
    CommandResult busctl(uid_t uid, std::vector<std::string> args) const {
        std::vector<std::string> argv = as(uid);
        argv.push_back(env_or("BUSCTL", "/usr/bin/busctl"));
        argv.push_back("--address=" + bus->address());
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }
    // dbus-send as `uid`: prints an error's message, which busctl does not.
    CommandResult send(uid_t uid, const std::string& path, const std::string& method,
                       std::vector<std::string> args) const {
        std::vector<std::string> argv = as(uid);
        argv.insert(argv.end(), {"/usr/bin/dbus-send", "--bus=" + bus->address(), "--print-reply", "--dest=org.damond1",
                                 path, method});
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }
    CommandResult create(uid_t uid, const std::string& name, const std::string& spec) const {
        return send(uid, "/org/damond1", "org.damond1.Manager.CreateContext", {"string:" + name, "string:" + spec});
    }
    CommandResult snapshot(uid_t uid, const std::string& name) const {
        return send(uid, path_of(name), "org.damond1.Context.Snapshot", {});
    }
    CommandResult read_spec(uid_t uid, const std::string& name) const {
        return send(uid, path_of(name), "org.damond1.Context.ReadSpec", {});
    }
    std::string property(uid_t uid, const std::string& name, const std::string& prop) const {
        return busctl(uid, {"get-property", "org.damond1", path_of(name), "org.damond1.Context", prop}).out;
    }
    CommandResult register_app(uid_t uid, const std::string& app, pid_t pid) const {
        return busctl(uid, {"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "RegisterApp", "sua{sv}", app,
                            std::to_string(pid), "0"});
    }
    size_t asked(const std::string& action) {
        size_t n = 0;
        for (const std::string& a : polkit->asked()) n += a.rfind(action + " ", 0) == 0;
        return n;
    }

    TempDir files;
    std::unique_ptr<PrivateBus> bus;
    std::unique_ptr<FakePolkit> polkit;
    std::unique_ptr<Emulator> emu;
    std::unique_ptr<Damond> damond;
};

// "" for a call that succeeded, else what it printed.
std::string failure(const CommandResult& r) { return r.exit_code == 0 ? "" : r.out; }

bool denied(const CommandResult& r) {
    return r.exit_code != 0 && r.out.find("org.freedesktop.DBus.Error.AccessDenied") != std::string::npos;
}

}  // namespace

// Who may watch a process: whoever could read its smaps. Root's process is
// not the group member's to watch; its own is; polkit's monitor-others and
// monitor-system lift the rule, and root is never asked about.
TEST_P(Privacy, WatchingAProcessTakesWhatReadingItsSmapsTakes) {
    Process roots(0), own(kMember);
    ASSERT_EQ(failure(create(kMember, "mine", vaddr_spec(own.pid))), "") << damond->log();

    const CommandResult r = create(kMember, "roots", vaddr_spec(roots.pid));
    EXPECT_TRUE(denied(r)) << r.out;
    const std::string pid = std::to_string(roots.pid);
    EXPECT_NE(r.out.find("targets[0].pid_target: uid 65534 may not watch pid " + pid + ": it runs as uid 0"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("/proc/" + pid + "/smaps"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PTRACE_MODE_READ"), std::string::npos) << r.out;
    EXPECT_NE(
        r.out.find("grant monitor-others: polkit action org.damond1.monitor-others: polkit does not authorize it"),
        std::string::npos)
        << r.out;
    EXPECT_NE(busctl(0, {"get-property", "org.damond1", path_of("roots"), "org.damond1.Context", "State"}).exit_code, 0)
        << "nothing half-created";

    const CommandResult machine = create(kMember, "machine", kPaddrSpec);
    EXPECT_TRUE(denied(machine)) << machine.out;
    EXPECT_NE(machine.out.find("whole machine's physical memory"), std::string::npos) << machine.out;
    EXPECT_NE(machine.out.find("org.damond1.monitor-system"), std::string::npos) << machine.out;

    // An app is the same: its process must be one the caller may watch.
    const CommandResult app = register_app(kMember, "org.example.Roots", roots.pid);
    EXPECT_NE(app.exit_code, 0) << app.out;
    EXPECT_NE(app.out.find("Access denied"), std::string::npos) << app.out;
    EXPECT_EQ(failure(register_app(kMember, "org.example.Own", own.pid)), "") << damond->log();

    // A commit that moves a context to root's process is refused; nothing changes.
    const CommandResult moved = send(kMember, path_of("mine"), "org.damond1.Context.Commit",
                                     {"string:" + json{{"targets", {{{"pid_target", roots.pid}}}}}.dump()});
    EXPECT_TRUE(denied(moved)) << moved.out;
    EXPECT_NE(read_spec(kMember, "mine").out.find("\"pid_target\":" + std::to_string(own.pid)), std::string::npos)
        << read_spec(kMember, "mine").out;

    // Polkit grants what the rule refuses.
    EXPECT_EQ(asked("org.damond1.monitor-others"), 3u);  // the context, the app, the commit
    polkit->allow({"org.damond1.monitor-others", "org.damond1.monitor-system"});
    EXPECT_EQ(failure(create(kMember, "roots", vaddr_spec(roots.pid))), "") << damond->log();
    if (GetParam() == "kernel") {
        EXPECT_EQ(failure(create(kMember, "machine", kPaddrSpec)), "") << damond->log();
    } else {  // admitted, then refused by the backend
        EXPECT_NE(create(kMember, "machine", kPaddrSpec).out.find("NotSupported"), std::string::npos);
    }
    EXPECT_EQ(asked("org.damond1.monitor-system"), 2u);

    // Root needs nobody's word.
    const size_t before = polkit->asked().size();
    EXPECT_EQ(failure(create(0, "root-watches", vaddr_spec(own.pid))), "") << damond->log();
    EXPECT_EQ(polkit->asked().size(), before);
}

// Who may read what a context learned: root, its owner, and callers polkit
// grants read-others. Everything else about it is for everyone.
TEST_P(Privacy, RegionsAreForRootTheOwnerAndReadOthers) {
    Process own(kMember);
    ASSERT_EQ(failure(create(kMember, "mine", vaddr_spec(own.pid, true))), "") << damond->log();
    ASSERT_EQ(failure(register_app(kMember, "org.example.Own", own.pid)), "") << damond->log();

    for (const std::string ctx : {"mine", "org.example.Own@background"}) {
        SCOPED_TRACE(ctx);
        EXPECT_EQ(snapshot(kMember, ctx).exit_code, 0) << snapshot(kMember, ctx).out;
        EXPECT_EQ(snapshot(0, ctx).exit_code, 0);
        const CommandResult r = snapshot(kOther, ctx);
        EXPECT_TRUE(denied(r)) << r.out;
        EXPECT_NE(r.out.find("context '" + ctx + "' is uid 65534's"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("org.damond1.read-others"), std::string::npos) << r.out;
    }
    // The spec's explicit regions: in ReadSpec for the owner, not in Spec.
    EXPECT_NE(read_spec(kMember, "mine").out.find("65536"), std::string::npos);
    EXPECT_TRUE(denied(read_spec(kOther, "mine")));
    const std::string spec = property(kOther, "mine", "Spec");
    EXPECT_EQ(spec.find("65536"), std::string::npos) << spec;
    EXPECT_NE(spec.find("\\\"regions\\\":[]"), std::string::npos) << spec;

    // What VmRSS tells everyone stays everyone's.
    for (const std::string prop : {"State", "Stats", "NrRegions", "Backend", "PauseHolds", "LastError"})
        EXPECT_EQ(
            busctl(kOther, {"get-property", "org.damond1", path_of("mine"), "org.damond1.Context", prop}).exit_code, 0)
            << prop;
    for (const std::string method : {"ListContexts", "DescribeContexts", "DescribeApps"})
        EXPECT_EQ(busctl(kOther, {"call", "org.damond1", "/org/damond1", "org.damond1.Manager", method}).exit_code, 0)
            << method;
    EXPECT_EQ(busctl(kOther, {"call", "org.damond1", path_of("mine"), "org.damond1.Context", "History"}).exit_code, 0);
    const CommandResult metrics = busctl(
        kOther, {"--json=short", "call", "org.damond1", "/org/damond1", "org.damond1.Manager", "Metrics", "s", ""});
    ASSERT_EQ(metrics.exit_code, 0) << metrics.out;
    // ... and holds no address of the regions root reads of the app's
    // process (its mappings' addresses: too long to be there by chance).
    const std::string text = json::parse(metrics.out)["data"][0].get<std::string>();
    json snap;
    // Regions come with the monitor's first look at the process (later on a loaded machine).
    EXPECT_TRUE(wait_until(
        [&] {
            snap = json::parse(
                json::parse(busctl(0, {"--json=short", "call", "org.damond1", path_of("org.example.Own@background"),
                                       "org.damond1.Context", "Snapshot"})
                                .out)["data"][0]
                    .get<std::string>());
            return !snap["targets"].empty() && !snap["targets"][0]["regions"].empty();
        },
        5000))
        << snap.dump();
    for (const json& region : snap["targets"][0]["regions"])
        for (const char* edge : {"start", "end"}) {
            const uint64_t at = region[edge].get<uint64_t>();
            if (at < (uint64_t{1} << 32)) continue;
            EXPECT_EQ(text.find(std::to_string(at)), std::string::npos) << edge;
        }

    // damonctl as the other user says why.
    const std::string damonctl = env_or("DAMONCTL", "");
    auto damonctl_as_other = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv = as(kOther);
        argv.push_back(damonctl);
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };
    if (!damonctl.empty()) {
        const CommandResult r = damonctl_as_other({"snapshot", "mine"});
        EXPECT_NE(r.exit_code, 0);
        EXPECT_NE(r.out.find("read-others"), std::string::npos) << r.out;
    }

    // report reads a snapshot: refused alike; the page says so instead of
    // drawing the regions.
    if (!damonctl.empty()) {
        const CommandResult r = damonctl_as_other({"report", "mine"});
        EXPECT_EQ(r.exit_code, 8) << r.out;
        EXPECT_NE(r.out.find("read-others"), std::string::npos) << r.out;
        char page_dir[] = "/tmp/damond-privacy-XXXXXX";
        ASSERT_NE(mkdtemp(page_dir), nullptr);
        chmod(page_dir, 0777);
        const std::string page = std::string(page_dir) + "/page.html";
        const CommandResult html = damonctl_as_other({"report", "--html", page, "mine", "--for", "100ms"});
        EXPECT_EQ(html.exit_code, 0) << html.out;
        const std::string text = read_file(page);
        EXPECT_NE(text.find("not yours to read"), std::string::npos) << text;
        EXPECT_EQ(text.find("65536"), std::string::npos) << "no region's address";
        EXPECT_NE(text.find("<h3>history</h3>"), std::string::npos) << "the history is everyone's";
        std::filesystem::remove_all(page_dir);
    }

    // show prints no region: everyone's, its figures from Stats.
    if (!damonctl.empty()) {
        const CommandResult r = damonctl_as_other({"show", "mine"});
        EXPECT_EQ(r.exit_code, 0) << r.out;
        EXPECT_NE(r.out.find("working set:"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("state: running"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("65536"), std::string::npos) << r.out;
    }

    polkit->allow({"org.damond1.read-others"});
    EXPECT_EQ(snapshot(kOther, "mine").exit_code, 0);
    EXPECT_EQ(read_spec(kOther, "mine").exit_code, 0);

    // At rest: the state directory is root's alone.
    struct stat st {};
    const std::string state = damond->dir.path() + "/state";
    ASSERT_EQ(stat(state.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(stat((state + "/state.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0u);
}

// A process that runs a setuid program after its context was created is no
// longer its owner's to watch: the context stops, saying why, and its owner
// reads no more of it. Root still may.
TEST_P(Privacy, ATargetThatRunsASetuidProgramIsNoLongerWatched) {
    TempDir bin;
    chmod(bin.path().c_str(), 0755);
    struct statvfs fs {};
    if (statvfs(bin.path().c_str(), &fs) == 0 && (fs.f_flag & ST_NOSUID))
        GTEST_SKIP() << bin.path() << " is mounted nosuid";
    const std::string suid_sleep = bin.path() + "/suid-sleep";
    std::filesystem::copy_file("/bin/sleep", suid_sleep);
    ASSERT_EQ(chown(suid_sleep.c_str(), 0, 0), 0);
    ASSERT_EQ(chmod(suid_sleep.c_str(), 04755), 0);

    Process target(kMember, suid_sleep);
    ASSERT_EQ(failure(create(kMember, "watched", vaddr_spec(target.pid))), "") << damond->log();
    EXPECT_EQ(snapshot(kMember, "watched").exit_code, 0);
    target.release();  // it runs the setuid program: euid 0, not dumpable

    EXPECT_TRUE(wait_until([&] { return property(0, "watched", "State") == "s \"stopped\"\n"; }, 5000))
        << property(0, "watched", "State") << damond->log();
    const std::string error = property(kOther, "watched", "LastError");
    EXPECT_NE(error.find("pid " + std::to_string(target.pid) + " changed hands"), std::string::npos) << error;
    EXPECT_NE(error.find("effective 0"), std::string::npos) << error;
    const CommandResult r = snapshot(kMember, "watched");
    EXPECT_TRUE(denied(r)) << r.out;
    EXPECT_NE(r.out.find("changed hands"), std::string::npos) << r.out;
    EXPECT_TRUE(denied(send(kMember, path_of("watched"), "org.damond1.Context.Resume", {})));
    EXPECT_EQ(snapshot(0, "watched").exit_code, 0);
}

// Owners come back with their contexts after a restart: the owner still
// reads, others still do not; checkpoints (regions) stay root's alone.
TEST_P(Privacy, OwnersSurviveARestart) {
    Process own(kMember);
    TempDir state;
    damond.reset();  // one with a state directory instead, on a tree of its own
    emu = std::make_unique<Emulator>("7.2");
    damond = std::make_unique<Damond>(*emu, GetParam(), true, config_for(GetParam()), state.path(), bus.get());
    ASSERT_TRUE(damond->up) << damond->log();
    ASSERT_EQ(failure(create(kMember, "mine", vaddr_spec(own.pid))), "") << damond->log();
    ASSERT_EQ(failure(register_app(kMember, "org.example.Own", own.pid)), "") << damond->log();
    damond.reset();  // SIGTERM: saved, checkpoints written
    struct stat st {};
    ASSERT_EQ(stat((state.path() + "/checkpoints").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    for (const auto& f : std::filesystem::directory_iterator(state.path() + "/checkpoints")) {
        ASSERT_EQ(stat(f.path().c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0077, 0u) << f.path();
    }

    damond = std::make_unique<Damond>(*emu, GetParam(), true, config_for(GetParam()), state.path(), bus.get());
    ASSERT_TRUE(damond->up) << damond->log();
    for (const std::string ctx : {"mine", "org.example.Own@background"}) {
        SCOPED_TRACE(ctx);
        EXPECT_TRUE(wait_until([&] { return snapshot(kMember, ctx).exit_code == 0; }, 5000))
            << snapshot(kMember, ctx).out << damond->log();
        EXPECT_TRUE(denied(snapshot(kOther, ctx)));
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, Privacy, ::testing::Values("inprocess", "kernel"),
                         [](const auto& info) { return info.param; });
