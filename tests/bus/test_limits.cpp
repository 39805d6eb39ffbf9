// Limits as callers meet them: the real binary on a private bus, root and
// another user (uid 65534, allowed by group) creating contexts, apps and
// holds up to the config's limits, and each call past one failing with
// LimitExceeded naming the limit and its key, nothing changed.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <nlohmann/json.hpp>

#include "damond_proxies.hpp"
#include "private_bus.hpp"

using namespace damond::testing;
using nlohmann::json;

namespace {

std::string small_spec(int regions_max = 20) {
    return R"({"ops": "synthetic", "intervals": {"sample_us": 5000, "aggr_us": 100000},
  "nr_regions": {"min": 3, "max": )" +
           std::to_string(regions_max) + R"(},
  "targets": [{"regions": [{"start": 0, "end": 1048576}]}]})";
}

json limits_config() {
    json profile = json::parse(small_spec());
    return {{"backend", "inprocess"},
            {"authorization", {{"group", "nogroup"}, {"polkit", false}}},
            {"profiles", {{"p", profile}}},
            {"apps", {{"default", {{"foreground", "p"}, {"background", "p"}}}}},
            {"limits",
             {{"contexts", 3},
              {"contexts_per_caller", 2},
              {"apps", 3},
              {"apps_per_caller", 2},
              {"holds", 3},
              {"holds_per_caller", 2},
              {"regions_per_context", 50},
              {"spec_bytes", 2048},
              {"text_bytes", 64}}}};
}

class Limits : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root to call as another user";
        chmod(dir_.path().c_str(), 0755);
        // The shipped policy: other users may connect and call (damond decides).
        bus_ = std::make_unique<PrivateBus>(env_or("DAMOND_POLICY", "systemd/org.damond1.conf"));
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
        config_ = dir_.write("damond.json", limits_config().dump());
        std::filesystem::create_directories(dir_.path() + "/state");  // systemd's StateDirectory=
        start();
    }
    void TearDown() override {
        if (damond_) {
            damond_->signal(SIGTERM);
            EXPECT_EQ(damond_->wait_exit(10000), 0);
        }
        if (HasFailure()) std::cerr << "--- damond log ---\n" << read_file(log());
    }
    void start() {
        damond_ = std::make_unique<Child>(
            damond_command({"damond", "--config", config_, "--state-dir", dir_.path() + "/state"}),
            std::map<std::string, std::string>{{"DBUS_SYSTEM_BUS_ADDRESS", bus_->address()}}, log());
        ASSERT_TRUE(wait_until([&] { return call(0, "Version", {}).exit_code == 0; }, 15000)) << read_file(log());
    }
    std::string log() const { return dir_.path() + "/damond.log"; }

    // One method call by a uid, through gdbus (which prints the error's name).
    CommandResult call(uid_t uid, const std::string& method, const std::vector<std::string>& args) {
        std::vector<std::string> argv;
        if (uid != 0) argv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid), "--regid=65534", "--clear-groups"};
        if (method == "Version") {
            argv.insert(argv.end(),
                        {"gdbus", "call", "--system", "--dest", "org.damond1", "--object-path", "/org/damond1",
                         "--method", "org.freedesktop.DBus.Properties.Get", "org.damond1.Manager", "Version"});
            return run_command(argv);
        }
        argv.insert(argv.end(), {"gdbus", "call", "--system", "--dest", "org.damond1", "--object-path", "/org/damond1",
                                 "--method", "org.damond1.Manager." + method});
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }
    static std::string quoted(const std::string& s) { return "'" + s + "'"; }
    // Another user calls through busctl, which prints the message but not
    // the error's name ("Call failed: limits.apps: ...").
    CommandResult as_other(uid_t uid, std::vector<std::string> args) {
        args.insert(args.begin(),
                    {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid), "--regid=65534", "--clear-groups",
                     env_or("BUSCTL", "/usr/bin/busctl"), "--address=" + bus_->address(), "call", "org.damond1",
                     "/org/damond1", "org.damond1.Manager"});
        return run_command(args);
    }
    CommandResult create(uid_t uid, const std::string& name, const std::string& spec = small_spec()) {
        if (uid != 0) return as_other(uid, {"CreateContext", "ss", name, spec});
        return call(uid, "CreateContext", {quoted(name), quoted(spec)});
    }
    CommandResult register_app(uid_t uid, const std::string& app) {
        if (uid != 0) return as_other(uid, {"RegisterApp", "sua{sv}", app, "0", "0"});
        return call(uid, "RegisterApp", {quoted(app), "0", "{}"});
    }

    TempDir dir_;
    std::unique_ptr<PrivateBus> bus_;
    std::string config_;
    std::unique_ptr<Child> damond_;
};

// gdbus (root) names the error; busctl (other users) gives its message.
#define EXPECT_LIMIT(result, text)                                                         \
    do {                                                                                   \
        const CommandResult r_ = (result);                                                 \
        EXPECT_NE(r_.exit_code, 0);                                                        \
        EXPECT_TRUE(r_.out.find("org.damond1.Error.LimitExceeded") != std::string::npos || \
                    r_.out.find("Call failed: ") != std::string::npos)                     \
            << r_.out;                                                                     \
        EXPECT_NE(r_.out.find(text), std::string::npos) << r_.out;                         \
    } while (0)

}  // namespace

TEST_F(Limits, ContextsPerCallerAndInAllSurviveARestart) {
    EXPECT_EQ(create(0, "a").exit_code, 0);
    EXPECT_EQ(create(0, "b").exit_code, 0);
    EXPECT_LIMIT(create(0, "c"), "limits.contexts_per_caller: uid 0 has created 2 contexts");
    const CommandResult other = create(65534, "d");
    EXPECT_EQ(other.exit_code, 0) << other.out << read_file(log());
    EXPECT_LIMIT(create(65534, "e"), "limits.contexts: 3 contexts were created over the bus");
    EXPECT_EQ(call(0, "ListContexts", {}).out.find("'c'"), std::string::npos);

    // Who created what is kept: after a restart root is still at its limit.
    damond_->signal(SIGTERM);
    ASSERT_EQ(damond_->wait_exit(10000), 0);
    start();
    EXPECT_LIMIT(create(0, "c"), "limits.contexts: 3 contexts were created over the bus");
    EXPECT_EQ(call(0, "RemoveContext", {quoted("d")}).exit_code, 0);
    EXPECT_LIMIT(create(0, "c"), "limits.contexts_per_caller: uid 0 has created 2 contexts");
    EXPECT_EQ(call(0, "RemoveContext", {quoted("a")}).exit_code, 0);
    EXPECT_EQ(create(0, "c").exit_code, 0);
}

TEST_F(Limits, SpecsOverTheRegionAndSizeLimitsAreRefusedByName) {
    EXPECT_LIMIT(create(0, "big", small_spec(51)),
                 "nr_regions.max: 51 is over the limit of 50 regions per context (limits.regions_per_context)");
    std::string huge = small_spec();
    huge.insert(1, "\"seed\": 1," + std::string(2100, ' '));
    EXPECT_LIMIT(create(0, "huge", huge), "over the limit of 2048 (limits.spec_bytes)");
    // A commit past a limit changes nothing.
    ASSERT_EQ(create(0, "a").exit_code, 0);
    EXPECT_LIMIT(call(0, "CommitContext", {quoted("a"), quoted(R"({"nr_regions": {"max": 500}})")}),
                 "limits.regions_per_context");
    const CommandResult spec =
        run_command({"gdbus", "call", "--system", "--dest", "org.damond1", "--object-path", "/org/damond1/context/a",
                     "--method", "org.freedesktop.DBus.Properties.Get", "org.damond1.Context", "Spec"});
    EXPECT_NE(spec.out.find(R"("nr_regions":{"max":20,)"), std::string::npos) << spec.out;
    EXPECT_EQ(call(0, "ListContexts", {}).out.find("big"), std::string::npos);
}

TEST_F(Limits, AppsPerCallerAndInAll) {
    EXPECT_EQ(register_app(0, "org.example.A").exit_code, 0) << read_file(log());
    EXPECT_EQ(register_app(0, "org.example.B").exit_code, 0);
    EXPECT_LIMIT(register_app(0, "org.example.C"), "limits.apps_per_caller: uid 0 has registered 2 apps");
    EXPECT_EQ(register_app(65534, "org.example.D").exit_code, 0);
    EXPECT_LIMIT(register_app(65534, "org.example.E"), "limits.apps: 3 apps are registered");
    // Apps' contexts are counted as apps, not as contexts.
    EXPECT_EQ(create(0, "a").exit_code, 0);
    EXPECT_EQ(call(0, "ListApps", {}).out.find("org.example.C"), std::string::npos);
}

TEST_F(Limits, HoldsPerConnectionAndInAllAndTheirTexts) {
    ManagerProxy first, second;
    first.HoldPause("one", "dump");
    first.HoldPause("two", "dump");
    EXPECT_EQ(error_name_of([&] {
                  first.HoldPause("three", "dump");
              }).rfind("org.damond1.Error.LimitExceeded: limits.holds_per_caller: ", 0),
              0u);
    second.HoldPause("other", "dump");
    EXPECT_EQ(error_name_of([&] { second.HoldPause("again", "dump"); }),
              "org.damond1.Error.LimitExceeded: limits.holds: 3 pause holds are taken, the most damond keeps");
    EXPECT_EQ(first.PauseHolds().size(), 3u);
    ManagerProxy third;
    EXPECT_EQ(error_name_of([&] { third.HoldPause(std::string(65, 'w'), ""); }),
              "org.damond1.Error.LimitExceeded: who: 65 bytes, over limits.text_bytes (64)");
}

TEST(LimitsConfig, ZeroOrTooSmallLimitsAreRefusedByKey) {
    TempDir dir;
    for (const auto& [key, value, text] : std::vector<std::tuple<std::string, int, std::string>>{
             {"holds", 0, "limits.holds: must be at least 1"},
             {"regions_per_context", 2, "limits.regions_per_context: must be at least 3"},
             {"spec_bytes", 10, "limits.spec_bytes: must be at least 1024"},
             {"regions_per_context", 5, "contexts.demo.nr_regions.max: 10 is over the limit of 5"}}) {
        json config = {{"backend", "inprocess"}, {"limits", {{key, value}}}};
        config["contexts"]["demo"] = json::parse(small_spec(10));
        const std::string path = dir.write("bad.json", config.dump());
        const CommandResult r = run_command({env_or("DAMOND", "damond"), "--config", path});
        EXPECT_NE(r.exit_code, 0) << key;
        EXPECT_NE(r.out.find(text), std::string::npos) << r.out;
    }
}
