// damond as users see it: the real binary on a private system-type bus,
// driven through the generated proxies and through busctl.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <nlohmann/json.hpp>

#include "bus_label.hpp"
#include "damond_proxies.hpp"

#ifndef DAMOND_HOOKS_DIR
#define DAMOND_HOOKS_DIR "config/hooks"
#endif
#include "../kernel/fake_tree_dir.hpp"
#include "../process/workload_process.hpp"
#include "fake_polkit.hpp"
#include "private_bus.hpp"

using namespace damond::testing;
using damond::AddrRange;
using nlohmann::json;

namespace {

const char* kConfig = R"({
  "backend": "inprocess",
  "contexts": {
    "demo": {
      "ops": "synthetic", "seed": 1,
      "intervals": {"sample_us": 1000, "aggr_us": 20000, "update_us": 1000000},
      "nr_regions": {"min": 10, "max": 100},
      "targets": [{"regions": [{"start": 0, "end": 67108864}],
                   "workload": {"seed": 3, "sets": [{"start": 0, "end": 4194304, "access_bp": 9000}]}}]
    }
  }
})";

const char* kOtherSpec = R"({"ops": "synthetic", "intervals": {"sample_us": 2000, "aggr_us": 40000},
  "targets": [{"regions": [{"start": 0, "end": 1048576}]}]})";

// whatever the regions do.
double mean_age(const std::string& snapshot, uint64_t lo = 16 << 20, uint64_t hi = 64 << 20) {
    double sum = 0, size = 0;
    const json parsed = json::parse(snapshot);
    for (const auto& t : parsed["targets"])
        for (const auto& r : t["regions"]) {
            const uint64_t s = std::max(lo, r["start"].get<uint64_t>()), e = std::min(hi, r["end"].get<uint64_t>());
            if (s >= e) continue;
            sum += r["age"].get<double>() * double(e - s);
            size += double(e - s);
        }
    return size ? sum / size : 0;
}

class DamondOnPrivateBus : public ::testing::Test {
protected:
    void SetUp() override {
        bus_ = std::make_unique<PrivateBus>();
        // The proxies' connections and busctl both find the bus through this.
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
        config_path_ = dir_.write("damond.json", kConfig);
        log_path_ = dir_.path() + "/damond.log";
        start_damond({});
    }

    void TearDown() override {
        if (damond_) {
            damond_->signal(SIGTERM);
            EXPECT_EQ(damond_->wait_exit(10000), 0) << read_file(log_path_);
        }
        if (HasFailure()) std::cerr << "--- damond log ---\n" << read_file(log_path_);
    }

    void start_damond(const std::map<std::string, std::string>& extra_env) {
        std::map<std::string, std::string> env = extra_env;
        env["DBUS_SYSTEM_BUS_ADDRESS"] = bus_->address();
        damond_ = std::make_unique<Child>(damond_command({"damond", "--config", config_path_}), env, log_path_);
        const bool up = wait_until([&] { return busctl({"status", "org.damond1"}).exit_code == 0; }, 15000);
        ASSERT_TRUE(up) << "damond did not take org.damond1\n" << read_file(log_path_);
    }

    CommandResult busctl(std::vector<std::string> args) {
        args.insert(args.begin(), {env_or("BUSCTL", "/usr/bin/busctl"), "--address=" + bus_->address()});
        return run_command(args);
    }

    TempDir dir_;
    std::unique_ptr<PrivateBus> bus_;
    std::string config_path_, log_path_;
    std::unique_ptr<Child> damond_;
};

void write_file_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    { std::ofstream(tmp) << text; }
    std::filesystem::rename(tmp, path);
}

}  // namespace

TEST_F(DamondOnPrivateBus, ManagerReportsVersionBackendAndContexts) {
    ManagerProxy m;
    EXPECT_FALSE(m.Version().empty());
    EXPECT_EQ(m.Backend(), "inprocess");
    const auto contexts = m.ListContexts();
    ASSERT_EQ(contexts.size(), 1u);
    EXPECT_EQ(contexts[0].get<0>(), "demo");
    EXPECT_EQ(std::string(contexts[0].get<1>()), "/org/damond1/context/demo");
    EXPECT_EQ(contexts[0].get<2>(), "running");
}

TEST_F(DamondOnPrivateBus, PauseFreezesSnapshotAndResumeContinues) {
    ContextProxy ctx("/org/damond1/context/demo");
    EXPECT_EQ(ctx.Backend(), "inprocess");
    EXPECT_EQ(ctx.AccessSource(), "synthetic");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ctx.Pause();
    // Pause returns only once the monitor has stopped: the state is already paused.
    EXPECT_EQ(ctx.State(), "paused");
    EXPECT_TRUE(ctx.events.wait_for("org.damond1.Context State=paused"));
    EXPECT_TRUE(ctx.events.contains("org.damond1.Context Spec=<spec>"));
    EXPECT_TRUE(json::parse(ctx.Spec())["pause"].get<bool>());

    const std::string at_pause = ctx.Snapshot();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(ctx.Snapshot(), at_pause);
    ctx.Pause();  // idempotent
    EXPECT_EQ(ctx.State(), "paused");

    ctx.Resume();
    EXPECT_EQ(ctx.State(), "running");
    EXPECT_TRUE(ctx.events.wait_for("org.damond1.Context State=running"));
    ASSERT_TRUE(wait_until([&] {
        return json::parse(ctx.Snapshot())["nr_aggregations"] >
               json::parse(at_pause)["nr_aggregations"].get<uint64_t>() + 5;
    }));
    EXPECT_GT(mean_age(ctx.Snapshot()), mean_age(at_pause) + 3) << at_pause << "\n" << ctx.Snapshot();
}

TEST_F(DamondOnPrivateBus, PauseHoldsCountAndGoWhenTheirHolderLeavesTheBus) {
    ContextProxy ctx("/org/damond1/context/demo");
    auto holder = std::make_unique<ManagerProxy>();  // its own connection
    const uint32_t everything = holder->HoldPause("damo", "consistent dump");
    EXPECT_EQ(ctx.State(), "paused");
    EXPECT_TRUE(ctx.events.wait_for("org.damond1.Context PauseHolds=?"));
    const uint32_t mine = ctx.HoldPause("test", "look at demo");
    EXPECT_NE(mine, everything);
    ctx.Resume();  // recorded, but held
    EXPECT_EQ(ctx.State(), "paused");
    EXPECT_FALSE(json::parse(ctx.Spec())["pause"].get<bool>());
    ASSERT_EQ(ctx.PauseHolds().size(), 2u);
    EXPECT_EQ(ctx.PauseHolds()[0].get<2>(), "damo");
    EXPECT_EQ(ctx.PauseHolds()[0].get<3>(), "consistent dump");
    const std::string snap = ctx.Snapshot();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(ctx.Snapshot(), snap);

    ManagerProxy m;
    EXPECT_EQ(error_name_of([&] { ctx.ReleasePause(everything); }).rfind("org.damond1.Error.NoSuchHold", 0), 0u);
    ctx.ReleasePause(mine);
    EXPECT_EQ(ctx.State(), "paused");  // the holder's hold is still there
    EXPECT_EQ(m.PauseHolds().size(), 1u);
    holder.reset();  // the holder disconnects: its hold goes with it
    EXPECT_TRUE(wait_until([&] { return ctx.State() == "running"; })) << ctx.State();
    EXPECT_TRUE(m.PauseHolds().empty());

    // A hold taken by busctl lasts as long as busctl's connection: no longer.
    const CommandResult held =
        busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "HoldPause", "ss", "busctl", "one call"});
    EXPECT_EQ(held.exit_code, 0) << held.out;
    EXPECT_EQ(held.out.rfind("u ", 0), 0u) << held.out;
    EXPECT_TRUE(wait_until([&] { return m.PauseHolds().empty() && ctx.State() == "running"; }));

    // Bad input: a named error and no change.
    EXPECT_EQ(error_name_of([&] { m.ReleasePause(9999); }), "org.damond1.Error.NoSuchHold: no pause hold 9999");
    EXPECT_EQ(error_name_of([&] { m.HoldPause("", "why"); }).rfind("org.freedesktop.DBus.Error.InvalidArgs: who:", 0),
              0u);
    EXPECT_TRUE(m.PauseHolds().empty());
    EXPECT_EQ(ctx.State(), "running");
}

TEST_F(DamondOnPrivateBus, InvalidCommitNamesTheFieldAndChangesNothing) {
    ContextProxy ctx("/org/damond1/context/demo");
    const std::string spec = ctx.Spec();
    ManagerProxy m;
    const std::string err = error_name_of([&] { m.CommitContext("demo", R"({"intervals": {"sample_us": 0}})"); });
    EXPECT_EQ(err.rfind("org.damond1.Error.InvalidSpec: intervals.sample_us", 0), 0u) << err;
    EXPECT_EQ(ctx.Spec(), spec);
    EXPECT_NE(ctx.LastError().find("intervals.sample_us"), std::string::npos);
    EXPECT_TRUE(ctx.events.wait_for("org.damond1.Context LastError=" + ctx.LastError()));

    const std::string err2 = error_name_of([&] { ctx.Commit(R"({"intervals": {"aggr_us": 10}})"); });
    EXPECT_EQ(err2.rfind("org.damond1.Error.InvalidSpec: intervals.aggr_us", 0), 0u) << err2;
    EXPECT_EQ(error_name_of([&] { ctx.Commit("{oops"); }).rfind("org.damond1.Error.InvalidSpec", 0), 0u);
    EXPECT_EQ(ctx.Spec(), spec);
    EXPECT_EQ(ctx.State(), "running");
}

TEST_F(DamondOnPrivateBus, CommitAppliesOnlineAndKeepsRegions) {
    ContextProxy ctx("/org/damond1/context/demo");
    ctx.Pause();
    const json before = json::parse(ctx.Snapshot());
    ctx.Commit(R"({"intervals": {"update_us": 5000000}})");
    EXPECT_EQ(json::parse(ctx.Spec())["intervals"]["update_us"], 5000000);
    EXPECT_EQ(ctx.State(), "paused");  // a commit that does not mention pause keeps it
    // Any change of the intervals drops the partial aggregation window, as
    // damon_set_attrs does; regions and ages stay.
    const json after = json::parse(ctx.Snapshot());
    ASSERT_EQ(after["targets"][0]["regions"].size(), before["targets"][0]["regions"].size());
    for (size_t i = 0; i < before["targets"][0]["regions"].size(); ++i) {
        const json& a = after["targets"][0]["regions"][i];
        const json& b = before["targets"][0]["regions"][i];
        EXPECT_EQ(a["start"], b["start"]);
        EXPECT_EQ(a["end"], b["end"]);
        EXPECT_EQ(a["age"], b["age"]);
        EXPECT_EQ(a["nr_accesses"], 0);
    }
    EXPECT_TRUE(ctx.events.wait_for("org.damond1.Context Spec=<spec>"));

    ctx.Commit(R"({"pause": false})");
    EXPECT_EQ(ctx.State(), "running");
}

TEST_F(DamondOnPrivateBus, CreateAndRemoveContexts) {
    ManagerProxy m;
    const sdbus::ObjectPath path = m.CreateContext("my app", kOtherSpec);
    EXPECT_EQ(std::string(path), "/org/damond1/context/my_20app");
    EXPECT_TRUE(m.events.wait_for("added my app /org/damond1/context/my_20app"));
    ContextProxy ctx(path);
    EXPECT_EQ(ctx.Name(), "my app");
    EXPECT_EQ(ctx.State(), "running");
    EXPECT_EQ(m.ListContexts().size(), 2u);

    m.PauseContext("my app");
    EXPECT_EQ(ctx.State(), "paused");
    m.ResumeContext("my app");
    EXPECT_EQ(ctx.State(), "running");

    m.RemoveContext("my app");
    EXPECT_TRUE(m.events.wait_for("removed my app /org/damond1/context/my_20app"));
    EXPECT_EQ(m.ListContexts().size(), 1u);
    EXPECT_EQ(error_name_of([&] { ctx.State(); }).rfind("org.freedesktop.DBus.Error.UnknownObject", 0), 0u)
        << error_name_of([&] { ctx.State(); });
}

TEST_F(DamondOnPrivateBus, ErrorsHaveTheirNames) {
    ManagerProxy m;
    EXPECT_EQ(error_name_of([&] { m.PauseContext("nope"); }),
              "org.damond1.Error.NoSuchContext: no context named 'nope'");
    EXPECT_EQ(error_name_of([&] { m.CreateContext("demo", kOtherSpec); }).rfind("org.damond1.Error.Busy", 0), 0u);
    const std::string unsupported =
        error_name_of([&] { m.CreateContext("k", R"({"ops": "paddr", "targets": [{"regions": []}]})"); });
    EXPECT_EQ(unsupported.rfind("org.damond1.Error.NotSupported: ops", 0), 0u) << unsupported;
    EXPECT_EQ(
        error_name_of([&] { m.CreateContext("", kOtherSpec); }).rfind("org.freedesktop.DBus.Error.InvalidArgs", 0), 0u);
    const std::string bad =
        error_name_of([&] { m.CreateContext("x", R"({"ops": "synthetic", "nr_regions": {"min": 2}})"); });
    EXPECT_EQ(bad, "org.damond1.Error.InvalidSpec: nr_regions.min: must be at least 3, got 2");
    const std::string kernel_only = error_name_of([&] {
        m.CreateContext("k", R"({"ops": "synthetic", "targets": [{"regions": [{"start": 0, "end": 1048576}]}],
                                 "schemes": [{"action": "migrate_cold"}]})");
    });
    EXPECT_EQ(kernel_only.rfind("org.damond1.Error.NotSupported: schemes[0].action: 'migrate_cold'", 0), 0u)
        << kernel_only;
    EXPECT_EQ(m.ListContexts().size(), 1u);
}

TEST_F(DamondOnPrivateBus, SchemesRunAndReportStatsInTheSnapshot) {
    ContextProxy ctx("/org/damond1/context/demo");
    // Count the idle regions: stat never acts, so it never resets an age.
    ctx.Commit(R"({"schemes": [{"action": "stat", "access_pattern": {"nr_accesses": {"min": 0, "max": 0}}}]})");
    ASSERT_TRUE(wait_until([&] { return json::parse(ctx.Snapshot())["schemes"][0]["stats"]["nr_tried"] > 5; }));
    const json snap = json::parse(ctx.Snapshot());
    const json& scheme = snap["schemes"][0];
    EXPECT_EQ(scheme["stats"]["nr_applied"], 0);
    EXPECT_GT(scheme["stats"]["sz_tried"].get<uint64_t>(), 0u);
    ASSERT_FALSE(scheme["tried_regions"].empty());
    // None lies wholly in the hot set, whose pages are touched 9 samples in 10.
    for (const auto& r : scheme["tried_regions"]) EXPECT_GT(r["end"].get<uint64_t>(), 4194304u) << r;
    EXPECT_EQ(snap["intervals"]["sample_us"], 1000);
}

TEST_F(DamondOnPrivateBus, BusctlPauseSnapshotResume) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r = busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "PauseContext", "s", "demo"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = busctl({"get-property", "org.damond1", "/org/damond1/context/demo", "org.damond1.Context", "State"});
    EXPECT_EQ(r.out, "s \"paused\"\n");

    const std::vector<std::string> snapshot = {
        "--json=short", "call", "org.damond1", "/org/damond1/context/demo", "org.damond1.Context", "Snapshot"};
    const auto s1 = busctl(snapshot);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto s2 = busctl(snapshot);
    ASSERT_EQ(s1.exit_code, 0) << s1.out;
    EXPECT_EQ(s1.out, s2.out);
    const std::string at_pause = json::parse(s1.out)["data"][0];

    r = busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "ResumeContext", "s", "demo"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::string later = json::parse(busctl(snapshot).out)["data"][0];
    EXPECT_GT(mean_age(later), mean_age(at_pause) + 3) << at_pause << "\n" << later;
}

TEST_F(DamondOnPrivateBus, BusctlBadCommitFailsWithInvalidSpec) {
    const auto spec_before =
        busctl({"get-property", "org.damond1", "/org/damond1/context/demo", "org.damond1.Context", "Spec"});
    // busctl hides the error name but prints the message.
    auto r = busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "CommitContext", "ss", "demo",
                     R"({"intervals":{"sample_us":0,"aggr_us":100000}})"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.out.find("intervals.sample_us: must be greater than 0"), std::string::npos) << r.out;
    const auto spec_after =
        busctl({"get-property", "org.damond1", "/org/damond1/context/demo", "org.damond1.Context", "Spec"});
    EXPECT_EQ(spec_before.out, spec_after.out);
}

TEST_F(DamondOnPrivateBus, IntrospectionShowsTheXmlInterfaces) {
    auto r = busctl({"introspect", "org.damond1", "/org/damond1/context/demo", "org.damond1.Context"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    for (const char* member : {".Commit", ".Pause", ".Resume", ".Snapshot", ".Backend", ".LastError", ".Name", ".Spec",
                               ".State", ".AccessSource", ".AccessSourceReason"})
        EXPECT_NE(r.out.find(member), std::string::npos) << member;
    r = busctl({"introspect", "org.damond1", "/org/damond1", "org.damond1.Manager"});
    for (const char* member : {".CommitContext", ".CreateContext", ".ListContexts", ".PauseContext", ".RemoveContext",
                               ".ResumeContext", ".ContextAdded", ".ContextRemoved", ".Version", ".Backend"})
        EXPECT_NE(r.out.find(member), std::string::npos) << member;
}

TEST_F(DamondOnPrivateBus, SighupReloadsTheConfig) {
    json config = json::parse(kConfig);
    config["contexts"]["demo"]["intervals"]["update_us"] = 7000000;
    config["contexts"]["extra"] = json::parse(kOtherSpec);
    dir_.write("damond.json", config.dump());
    ManagerProxy m;
    damond_->signal(SIGHUP);
    ASSERT_TRUE(m.events.wait_for("added extra /org/damond1/context/extra"));
    ContextProxy ctx("/org/damond1/context/demo");
    EXPECT_EQ(json::parse(ctx.Spec())["intervals"]["update_us"], 7000000);

    dir_.write("damond.json", R"({"contexts": {"demo": {"ops": "synthetic", "nr_regions": {"min": 1}}}})");
    damond_->signal(SIGHUP);  // invalid: the running configuration stays
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(m.ListContexts().size(), 2u);
    EXPECT_NE(read_file(log_path_).find("contexts.demo.nr_regions.min"), std::string::npos);
}

// A fake NOTIFY_SOCKET sees what systemd would, in order.
TEST(DamondProcess, NotifiesReadyStatusWatchdogReloadingAndStopping) {
    PrivateBus bus;
    TempDir dir;
    const std::string sock_path = dir.path() + "/notify";
    const int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
    ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{10, 0};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // The next message that is not a watchdog ping; counts the pings.
    int pings = 0;
    auto next = [&]() -> std::string {
        for (;;) {
            char buf[1024] = {};
            if (recv(sock, buf, sizeof buf - 1, 0) <= 0) return "<nothing>";
            if (std::string(buf) == "WATCHDOG=1") {
                ++pings;
                continue;
            }
            return buf;
        }
    };

    const std::string config = dir.write("c.json", kConfig);
    Child damond(
        damond_command({"damond", "--config", config}),
        {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}, {"NOTIFY_SOCKET", sock_path}, {"WATCHDOG_USEC", "200000"}},
        dir.path() + "/log");
    EXPECT_EQ(next(), "READY=1\nSTATUS=1 context, 0 paused, backend inprocess") << read_file(dir.path() + "/log");
    // READY means the name is owned.
    const std::string busctl = env_or("BUSCTL", "/usr/bin/busctl");
    const auto r = run_command({busctl, "--address=" + bus.address(), "status", "org.damond1"});
    EXPECT_EQ(r.exit_code, 0) << r.out;

    // STATUS= follows every change.
    const auto paused = run_command({busctl, "--address=" + bus.address(), "call", "org.damond1", "/org/damond1",
                                     "org.damond1.Manager", "PauseContext", "s", "demo"});
    ASSERT_EQ(paused.exit_code, 0) << paused.out;
    EXPECT_EQ(next(), "STATUS=1 context, 1 paused, backend inprocess");

    // The watchdog is fed at half WATCHDOG_USEC from the main loop.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    damond.signal(SIGHUP);
    const std::string reloading = next();
    EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
    EXPECT_EQ(next(), "READY=1\nSTATUS=1 context, 1 paused, backend inprocess");
    EXPECT_GE(pings, 4);
    EXPECT_LE(pings, 12);

    // Reload() over the bus: a broken config is rejected whole, and says so.
    write_file_atomically(config, R"({"contexts": {"demo": {"ops": "synthetic", "intervals": {"sample_us": 0}}}})");
    const auto rejected = run_command(
        {busctl, "--address=" + bus.address(), "call", "org.damond1", "/org/damond1", "org.damond1.Manager", "Reload"});
    EXPECT_NE(rejected.exit_code, 0);
    EXPECT_NE(rejected.out.find("intervals.sample_us: must be greater than 0"), std::string::npos) << rejected.out;
    EXPECT_EQ(next().rfind("RELOADING=1", 0), 0u);
    const std::string after = next();
    EXPECT_EQ(after.rfind("READY=1\nSTATUS=1 context, 1 paused, backend inprocess; config rejected: " + config +
                              ": contexts.demo.intervals.sample_us: must be greater than 0",
                          0),
              0u)
        << after;

    damond.signal(SIGTERM);
    EXPECT_EQ(next(), "STOPPING=1");
    EXPECT_EQ(damond.wait_exit(10000), 0);
    close(sock);
}

TEST(DamondProcess, RejectsBadOptionsAndConfig) {
    TempDir dir;
    auto r = run_command({env_or("DAMOND", "damond"), "--backend", "gpu"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("--backend must be auto, inprocess or kernel"), std::string::npos) << r.out;
    r = run_command(
        {env_or("DAMOND", "damond"), "--config",
         dir.write("bad.json", R"({"contexts": {"demo": {"ops": "synthetic", "intervals": {"sample_us": 0}}}})")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("contexts.demo.intervals.sample_us: must be greater than 0"), std::string::npos) << r.out;
}

// The shipped bus policy on a bus that denies like Debian's system bus, and
// damond's own check of callers (no polkit on this bus).
TEST(BusPolicy, OnlyRootOwnsAndChangesEveryoneReads) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run clients as another user";
    PrivateBus bus(env_or("DAMOND_POLICY", "systemd/org.damond1.conf"));
    TempDir dir;
    chmod(dir.path().c_str(), 0755);  // the config must be readable by nobody too
    const std::string config = dir.write("c.json", kConfig);
    const std::string busctl = env_or("BUSCTL", "/usr/bin/busctl");
    const std::string address = "--address=" + bus.address();
    const std::vector<std::string> as_nobody = {"/usr/bin/setpriv", "--reuid=65534",
                                                "--regid=65534",    "--clear-groups",
                                                "/usr/bin/env",     "DBUS_SYSTEM_BUS_ADDRESS=" + bus.address()};
    auto nobody = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = as_nobody;
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };

    // Another user cannot take the name.
    const auto stolen = nobody({env_or("DAMOND", "damond"), "--config", config});
    EXPECT_EQ(stolen.exit_code, 1);
    EXPECT_NE(stolen.out.find("AccessDenied"), std::string::npos) << stolen.out;

    Child damond(damond_command({"damond", "--config", config}), {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}},
                 dir.path() + "/log");
    ASSERT_TRUE(wait_until([&] {
        return run_command({busctl, address, "status", "org.damond1"}).exit_code == 0;
    })) << read_file(dir.path() + "/log");

    const std::string manager = "/org/damond1", ctx = "/org/damond1/context/demo";
    // Everyone reads.
    auto r = nobody({busctl, address, "get-property", "org.damond1", ctx, "org.damond1.Context", "State"});
    EXPECT_EQ(r.out, "s \"running\"\n");
    r = nobody({busctl, address, "call", "org.damond1", manager, "org.damond1.Manager", "ListContexts"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = nobody({busctl, address, "call", "org.damond1", ctx, "org.damond1.Context", "Snapshot"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = nobody({busctl, address, "introspect", "org.damond1", ctx});
    EXPECT_EQ(r.exit_code, 0) << r.out;

    // Only root changes anything.
    for (const auto& call :
         std::vector<std::vector<std::string>>{{manager, "org.damond1.Manager", "PauseContext", "s", "demo"},
                                               {manager, "org.damond1.Manager", "CreateContext", "ss", "x", kOtherSpec},
                                               {ctx, "org.damond1.Context", "Pause"},
                                               {ctx, "org.damond1.Context", "Commit", "s", "{}"}}) {
        std::vector<std::string> args = {busctl, address, "call", "org.damond1"};
        args.insert(args.end(), call.begin(), call.end());
        r = nobody(args);
        EXPECT_NE(r.exit_code, 0) << call[2];
        EXPECT_NE(r.out.find("Access denied"), std::string::npos) << call[2] << ": " << r.out;
        // damond refuses, not the bus, and says what would be needed (busctl
        // shows only the error name; the reply's message is in damond's log).
        // The journal entry follows the reply.
        const std::string action = call[2] == "PauseContext" || call[2] == "Pause" ? "pause" : "configure";
        EXPECT_TRUE(wait_until(
            [&] {
                return read_file(dir.path() + "/log").find("denied " + call[2] + " to :1.", 0) != std::string::npos;
            },
            2000))
            << call[2];
        EXPECT_NE(read_file(dir.path() + "/log")
                      .find(": org.damond1." + action +
                            " needs root or membership of group 'damond' (uid 65534: polkit is not running)"),
                  std::string::npos)
            << call[2];
    }
    r = run_command({busctl, address, "get-property", "org.damond1", ctx, "org.damond1.Context", "State"});
    EXPECT_EQ(r.out, "s \"running\"\n");
    r = run_command(
        {busctl, address, "call", "org.damond1", manager, "org.damond1.Manager", "PauseContext", "s", "demo"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = run_command({busctl, address, "get-property", "org.damond1", ctx, "org.damond1.Context", "State"});
    EXPECT_EQ(r.out, "s \"paused\"\n");

    damond.signal(SIGTERM);
    EXPECT_EQ(damond.wait_exit(10000), 0);
}

TEST_F(DamondOnPrivateBus, ARealProcessContextStopsWhenItsProcessExits) {
    auto w = std::make_unique<WorkloadProcess>(std::vector<std::string>{"--hot-mib", "2", "--cold-mib", "2"});
    const pid_t pid = w->pid();
    ManagerProxy m;
    const json spec = {{"ops", "vaddr"},
                       {"intervals", {{"sample_us", 10000}, {"aggr_us", 100000}}},
                       {"targets", {{{"pid_target", pid}}}}};
    ContextProxy ctx(m.CreateContext("app", spec.dump()));
    EXPECT_EQ(ctx.State(), "running");
    EXPECT_FALSE(ctx.AccessSource().empty());
    EXPECT_FALSE(ctx.AccessSourceReason().empty());
    EXPECT_EQ(w->finish(), 0);
    EXPECT_TRUE(ctx.events.wait_for("org.damond1.Context State=stopped", 10000));
    EXPECT_EQ(ctx.LastError(), "target process " + std::to_string(pid) + " exited");

    const std::string missing = error_name_of([&] {
        m.CreateContext("gone", json({{"ops", "vaddr"}, {"targets", {{{"pid_target", pid}}}}}).dump());
    });
    EXPECT_EQ(missing,
              "org.damond1.Error.InvalidSpec: targets[0].pid_target: no process with pid " + std::to_string(pid));
}

namespace {

// Every file under `dir` with its content, to prove nothing was written.
std::map<std::string, std::string> tree_contents(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out[e.path().string()] = read_file(e.path().string());
    return out;
}

}  // namespace

TEST(DamondKernelTree, ReportsAForeignKdamondFallsBackAndWritesNothing) {
    PrivateBus bus;
    TempDir dir;
    FakeTreeDir tree("7.3.4");
    tree.add_kdamond("on", 4242, "paddr", 1);
    const auto before = tree_contents(tree.root());
    Child damond(
        damond_command({"damond", "--config", dir.write("c.json", kConfig), "--backend", "auto", "--sysfs-root",
                        tree.root(), "--modules-root", tree.modules(), "--kernel-release", "7.3.4"}),
        {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}}, dir.path() + "/log");
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
    const std::string busctl = env_or("BUSCTL", "/usr/bin/busctl");
    ASSERT_TRUE(wait_until([&] {
        return run_command({busctl, "--address=" + bus.address(), "status", "org.damond1"}).exit_code == 0;
    })) << read_file(dir.path() + "/log");

    ManagerProxy m;
    EXPECT_EQ(m.Backend(), "inprocess");
    EXPECT_NE(m.BackendReason().find("kdamond 0 (pid 4242) is running and is not damond's"), std::string::npos)
        << m.BackendReason();
    // The contexts pause on damond's own core; the kernel's way is named too.
    EXPECT_EQ(m.PauseMode(), "inprocess");
    EXPECT_NE(m.PauseModeReason().find("would pause by 'native'"), std::string::npos) << m.PauseModeReason();
    const auto features = m.KernelFeatures();
    EXPECT_NE(std::find(features.begin(), features.end(), "pause"), features.end());
    const auto kdamonds = m.Kdamonds();
    ASSERT_EQ(kdamonds.size(), 1u);
    EXPECT_EQ(kdamonds[0].get<0>(), 0u);
    EXPECT_FALSE(kdamonds[0].get<1>());
    EXPECT_EQ(kdamonds[0].get<2>(), "on");
    EXPECT_EQ(kdamonds[0].get<3>(), 4242u);
    EXPECT_EQ(kdamonds[0].get<4>(), "paddr");

    // Contexts still run, on the in-process core.
    m.PauseContext("demo");
    m.ResumeContext("demo");
    damond.signal(SIGTERM);
    EXPECT_EQ(damond.wait_exit(10000), 0);
    EXPECT_EQ(tree_contents(tree.root()), before);

    EXPECT_EQ(tree_contents(tree.root()), before);
}

namespace {

const char* kAppsConfig = R"({
  "backend": "inprocess",
  "profiles": {
    "fine":   {"ops": "vaddr", "intervals": {"sample_us": 100000, "aggr_us": 1000000}},
    "coarse": {"ops": "vaddr", "intervals": {"sample_us": 200000, "aggr_us": 2000000}}
  },
  "apps": {"default": {"foreground": "fine", "background": "coarse"}}
})";

}  // namespace

// damond with kAppsConfig on a bus of its own.
class DamondApps : public ::testing::Test {
protected:
    void SetUp() override {
        damond = start_damond(bus, dir.write("c.json", kAppsConfig), dir.path() + "/log");
        ASSERT_TRUE(damond) << read_file(dir.path() + "/log");
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
    }
    void TearDown() override {
        if (HasFailure()) std::cerr << "--- damond log ---\n" << read_file(dir.path() + "/log");
    }
    PrivateBus bus;
    TempDir dir;
    std::unique_ptr<Child> damond;
};

// One GetManagedObjects call lists every context and app with its
// properties; InterfacesAdded/Removed follow them.
TEST_F(DamondApps, TheObjectManagerListsAndFollowsContextsAndApps) {
    ObjectManagerProxy om;
    ManagerProxy m;
    EXPECT_TRUE(om.GetManagedObjects().empty());
    m.CreateContext("extra", kOtherSpec);
    EXPECT_TRUE(om.events.wait_for("added /org/damond1/context/extra org.damond1.Context"));
    auto objects = om.GetManagedObjects();
    const sdbus::ObjectPath extra("/org/damond1/context/extra");
    ASSERT_TRUE(objects.count(extra)) << objects.size() << " objects";
    ASSERT_TRUE(objects.at(extra).count("org.damond1.Context"));
    EXPECT_EQ(objects.at(extra).at("org.damond1.Context").at("Name").get<std::string>(), "extra");
    EXPECT_EQ(objects.at(extra).at("org.damond1.Context").at("State").get<std::string>(), "running");

    WorkloadProcess proc({"--hot-mib", "1", "--cold-mib", "1"});
    m.RegisterApp("org.example.A", static_cast<uint32_t>(proc.pid()), {});
    const std::string app = damond::app_object_path("org.example.A");
    EXPECT_TRUE(om.events.wait_for("added " + app + " org.damond1.App"));
    objects = om.GetManagedObjects();
    EXPECT_TRUE(objects.count(sdbus::ObjectPath("/org/damond1/context/extra")));
    ASSERT_TRUE(objects.count(sdbus::ObjectPath(app)));
    EXPECT_EQ(objects.at(sdbus::ObjectPath(app)).at("org.damond1.App").at("AppId").get<std::string>(), "org.example.A");
    EXPECT_TRUE(objects.count(sdbus::ObjectPath(damond::context_object_path("org.example.A@foreground"))));

    // GDBus sees them as its clients would: introspection down the tree,
    // and the ObjectManager's answer.
    const std::string address = "--address=" + env_or("DBUS_SYSTEM_BUS_ADDRESS", "");
    const CommandResult tree = run_command({"gdbus", "introspect", address, "--dest", "org.damond1", "--object-path",
                                            "/org/damond1", "--recurse", "--only-properties"});
    EXPECT_EQ(tree.exit_code, 0) << tree.out;
    const std::vector<std::string> nodes{"/org/damond1/context/extra", app,
                                         damond::context_object_path("org.example.A@background")};
    for (const std::string& node : nodes)
        EXPECT_NE(tree.out.find("node " + node + " {"), std::string::npos) << node << "\n" << tree.out;
    const CommandResult managed =
        run_command({"gdbus", "call", address, "--dest", "org.damond1", "--object-path", "/org/damond1", "--method",
                     "org.freedesktop.DBus.ObjectManager.GetManagedObjects"});
    EXPECT_EQ(managed.exit_code, 0) << managed.out;
    EXPECT_NE(managed.out.find("'AppId': <'org.example.A'>"), std::string::npos) << managed.out;

    m.UnregisterApp("org.example.A");
    EXPECT_TRUE(om.events.wait_for("removed " + app + " org.damond1.App"));
    m.RemoveContext("extra");
    EXPECT_TRUE(om.events.wait_for("removed /org/damond1/context/extra org.damond1.Context"));
    EXPECT_FALSE(om.GetManagedObjects().count(sdbus::ObjectPath("/org/damond1/context/extra")));
    EXPECT_TRUE(m.events.contains("added extra /org/damond1/context/extra"));  // the old signal, for old callers
}

// DescribeContexts and DescribeApps say, in one reply each, what every
// context's and app's own properties say (held paused, so that no figure
// moves between the two reads).
TEST_F(DamondApps, DescribeContextsAndAppsSayWhatEachObjectSays) {
    ManagerProxy m;
    m.CreateContext("extra", kOtherSpec);
    WorkloadProcess proc({"--hot-mib", "1", "--cold-mib", "2"});
    m.RegisterApp("org.example.A", static_cast<uint32_t>(proc.pid()), {});
    m.SetAppState("org.example.A", "foreground", {});
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // some aggregations to count
    const uint32_t hold = m.HoldPause("test", "steady figures");
    const auto contexts = m.DescribeContexts();
    ASSERT_EQ(contexts.size(), m.ListContexts().size());
    ASSERT_EQ(contexts.size(), 3u);  // extra and A's two
    uint64_t aggregations = 0;
    for (const auto& c : contexts) {
        ContextProxy p(c.get<1>());
        EXPECT_EQ(c.get<0>(), p.Name());
        EXPECT_EQ(c.get<2>(), p.State()) << c.get<0>();
        EXPECT_EQ(c.get<2>(), "paused") << c.get<0>();
        EXPECT_EQ(c.get<3>(), p.StateSinceUsec()) << c.get<0>();
        EXPECT_EQ(c.get<4>(), p.Backend()) << c.get<0>();
        EXPECT_EQ(c.get<5>(), p.BackendReason()) << c.get<0>();
        EXPECT_EQ(c.get<6>(), p.AccessSource()) << c.get<0>();
        EXPECT_EQ(c.get<7>(), p.AccessSourceReason()) << c.get<0>();
        EXPECT_EQ(c.get<8>(), p.NrRegions()) << c.get<0>();
        EXPECT_EQ(c.get<9>(), p.NrAggregations()) << c.get<0>();
        EXPECT_EQ(c.get<10>(), p.NrSamples()) << c.get<0>();
        EXPECT_EQ(c.get<11>(), p.LastError()) << c.get<0>();
        aggregations += c.get<9>();
    }
    EXPECT_GT(aggregations, 0u);  // the figures compared are not all zero
    m.ReleasePause(hold);
    const auto apps = m.DescribeApps();
    ASSERT_EQ(apps.size(), 1u);
    AppProxy a(apps[0].get<1>());
    EXPECT_EQ(apps[0].get<0>(), a.AppId());
    EXPECT_EQ(apps[0].get<2>(), "foreground");
    EXPECT_EQ(apps[0].get<2>(), a.State());
    EXPECT_EQ(apps[0].get<3>(), std::vector<uint32_t>{uint32_t(proc.pid())});
    EXPECT_EQ(apps[0].get<3>(), a.Pids());
}

TEST_F(DamondApps, SwitchingForegroundBetweenTwoAppsKeepsOneContextEachRunning) {
    ManagerProxy m;
    // Two real processes are the apps; each app's contexts watch its process.
    WorkloadProcess proc_a({"--hot-mib", "2", "--cold-mib", "4"}), proc_b({"--hot-mib", "1", "--cold-mib", "8"});
    EXPECT_EQ(std::string(m.RegisterApp("org.example.A", static_cast<uint32_t>(proc_a.pid()), {})),
              "/org/damond1/app/org_2eexample_2eA");
    m.RegisterApp("org.example.B", static_cast<uint32_t>(proc_b.pid()), {});
    EXPECT_EQ(AppProxy("/org/damond1/app/org_2eexample_2eA").Pids(), std::vector<uint32_t>{uint32_t(proc_a.pid())});
    EXPECT_EQ(m.ListApps().size(), 2u);
    auto running = [&](const std::string& app) {
        int n = 0;
        for (const auto& c : m.ListContexts())
            if (c.get<0>().rfind(app + "@", 0) == 0 && c.get<2>() == "running") ++n;
        return n;
    };
    // Sampling every 100-200 ms leaves time to read a context right after a
    // switch before it samples again.
    std::map<std::string, std::unique_ptr<ContextProxy>> proxies;
    auto proxy = [&](const std::string& ctx) -> ContextProxy& {
        auto& p = proxies[ctx];
        if (!p) p = std::make_unique<ContextProxy>(damond::context_object_path(ctx));
        return *p;
    };
    std::map<std::string, std::string> at_pause;  // context -> its snapshot just after it paused
    int compared = 0;
    for (int i = 0; i < 100; ++i) {
        const std::string app = i % 2 ? "org.example.B" : "org.example.A";
        m.SetAppState(app, "foreground", {});
        EXPECT_EQ(m.ForegroundApp(), app);
        EXPECT_EQ(running("org.example.A"), 1);
        EXPECT_EQ(running("org.example.B"), 1);
        for (const char* a : {"org.example.A", "org.example.B"})
            for (const char* which : {"@foreground", "@background"}) {
                const std::string ctx = std::string(a) + which;
                ContextProxy& p = proxy(ctx);
                if (p.State() == "paused") {
                    if (!at_pause.count(ctx)) at_pause[ctx] = p.Snapshot();
                } else if (at_pause.count(ctx)) {
                    // Resumed exactly where it was paused.
                    EXPECT_EQ(p.Snapshot(), at_pause[ctx]) << ctx << " at switch " << i;
                    at_pause.erase(ctx);
                    ++compared;
                }
            }
    }
    EXPECT_GT(compared, 150);  // each context resumed some 50 times
    // One AppStateChanged per change: the first switch changes A only, each
    // later one changes two apps.
    EXPECT_TRUE(wait_until([&] {
        std::lock_guard<std::mutex> lock(m.mu);
        return m.app_changes == 1 + 99 * 2;
    })) << m.app_changes;
    m.SetAppState("org.example.B", "foreground", {});  // B is there already: no change, no signal
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    {
        std::lock_guard<std::mutex> lock(m.mu);
        EXPECT_EQ(m.app_changes, 199);
    }

    // Bad input: a named error and no change.
    EXPECT_EQ(error_name_of([&] {
                  m.SetAppState("org.example.A", "sideways", {});
              }).rfind("org.freedesktop.DBus.Error.InvalidArgs: state: unknown app state 'sideways'", 0),
              0u);
    EXPECT_EQ(error_name_of([&] { m.SetAppState("nobody", "background", {}); }).rfind("org.damond1.Error.NoSuchApp", 0),
              0u);
    EXPECT_EQ(error_name_of([&] {
                  m.RegisterApp("org.example.C", 0, {{"colour", sdbus::Variant(std::string("red"))}});
              }),
              "org.freedesktop.DBus.Error.InvalidArgs: options: unknown key 'colour'");
    EXPECT_EQ(error_name_of([&] {
                  m.SetAppState("org.example.B", "background", {{"pid", sdbus::Variant(std::string("1"))}});
              }).rfind("org.freedesktop.DBus.Error.InvalidArgs: options.pid", 0),
              0u);
    EXPECT_EQ(m.ListApps().size(), 2u);
    EXPECT_EQ(m.ForegroundApp(), "org.example.B");

    m.UnregisterApp("org.example.B");
    EXPECT_EQ(m.ListApps().size(), 1u);
    EXPECT_TRUE(m.events.wait_for("app org.example.B foreground->gone"));

    // An app with a real process goes when the process does, within a second.
    auto w = std::make_unique<WorkloadProcess>(std::vector<std::string>{"--hot-mib", "1", "--cold-mib", "1"});
    const pid_t pid = w->pid();
    m.RegisterApp("org.example.Live", static_cast<uint32_t>(pid), {});
    EXPECT_EQ(m.ListContexts().size(), 4u);
    const auto killed = std::chrono::steady_clock::now();
    w.reset();  // SIGKILL and reap
    EXPECT_TRUE(m.events.wait_for("app org.example.Live background->gone", 1000));
    EXPECT_LT(std::chrono::steady_clock::now() - killed, std::chrono::milliseconds(1000));
    EXPECT_EQ(m.ListContexts().size(), 2u);
    EXPECT_EQ(m.ListApps().size(), 1u);
    // A dead pid is refused and leaves nothing behind.
    EXPECT_EQ(error_name_of([&] { m.RegisterApp("org.example.Dead", static_cast<uint32_t>(pid), {}); }),
              "org.freedesktop.DBus.Error.InvalidArgs: pid " + std::to_string(pid) + ": No such process");
    EXPECT_EQ(m.ListContexts().size(), 2u);
    damond->signal(SIGTERM);
    EXPECT_EQ(damond->wait_exit(10000), 0);
}

// What a client sees of a switch, message by message as dbus-daemon routes
// them (busctl monitor): the reply first, then every signal the switch
// causes, in the order damond always sent them.
TEST_F(DamondApps, ASwitchRepliesFirstThenSendsEverySignalInOrder) {
    WorkloadProcess proc({"--hot-mib", "1", "--cold-mib", "1"});
    ManagerProxy m;
    m.RegisterApp("org.example.A", static_cast<uint32_t>(proc.pid()), {});
    const std::string out = dir.path() + "/monitor";
    Child monitor({env_or("BUSCTL", "/usr/bin/busctl"), "monitor", "--json=short", "org.damond1"},
                  {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}}, out);
    ASSERT_TRUE(wait_until([&] { return read_file(out).find("Monitoring") != std::string::npos; }));
    (void)m.Version();
    ASSERT_TRUE(wait_until([&] { return read_file(out).find("\"Version\"") != std::string::npos; }));
    m.SetAppState("org.example.A", "foreground", {});
    m.SetAppState("org.example.A", "background", {});
    auto managers_changed = [&] {
        const std::string text = read_file(out);
        size_t n = 0;
        for (size_t at = 0; (at = text.find("\"ForegroundApp\"", at)) != std::string::npos; ++at) ++n;
        return n;
    };
    ASSERT_TRUE(wait_until([&] { return managers_changed() >= 2; })) << read_file(out);
    monitor.signal(SIGTERM);
    monitor.wait_exit(5000);

    // damond's own messages, in the order it sent them (dbus-daemon keeps
    // one connection's order; a client's next call may show up between
    // them). Each switch: its reply, then everything up to the next reply.
    std::vector<json> messages;
    std::istringstream lines(read_file(out));
    for (std::string line; std::getline(lines, line);)
        if (!line.empty() && line[0] == '{') messages.push_back(json::parse(line));
    std::set<uint64_t> calls;
    for (const json& msg : messages)
        if (msg.value("type", "") == "method_call" && msg.value("member", "") == "SetAppState")
            calls.insert(msg.at("cookie").get<uint64_t>());
    std::string damond_name;
    for (const json& msg : messages)
        if (msg.value("type", "") == "method_return" && calls.count(msg.value("reply_cookie", uint64_t{0})))
            damond_name = msg.value("sender", "");
    ASSERT_FALSE(damond_name.empty()) << read_file(out);
    std::vector<std::vector<std::string>> switches;
    for (const json& msg : messages) {
        if (msg.value("sender", "") != damond_name) continue;
        const std::string type = msg.value("type", "");
        if (type == "method_return" && calls.count(msg.value("reply_cookie", uint64_t{0}))) {
            switches.push_back({"reply"});
        } else if (!switches.empty() && type == "signal") {
            std::string what = msg.value("member", "") + " " + msg.value("path", "");
            if (msg.value("member", "") == "PropertiesChanged") {
                std::vector<std::string> names;
                for (const auto& [k, v] : msg.at("payload").at("data").at(1).items()) names.push_back(k);
                std::sort(names.begin(), names.end());
                for (const std::string& n : names) what += " " + n;
            }
            switches.back().push_back(what);
        }
    }
    const std::string fg = "/org/damond1/context/org_2eexample_2eA_40foreground";
    const std::string bg = "/org/damond1/context/org_2eexample_2eA_40background";
    const std::string app = damond::app_object_path("org.example.A");
    // The new context runs first, then the app has switched, then the old
    // context pauses (docs/kernel-apps.md, "An app switch").
    auto expected = [&](const std::string& paused, const std::string& resumed) {
        return std::vector<std::string>{"reply",
                                        "PropertiesChanged " + resumed + " Spec State StateSinceUsec",
                                        "PropertiesChanged " + app + " LastSwitchUsec State",
                                        "AppStateChanged /org/damond1",
                                        "PropertiesChanged /org/damond1 ForegroundApp",
                                        "PropertiesChanged " + paused + " Spec State StateSinceUsec"};
    };
    ASSERT_EQ(switches.size(), 2u) << read_file(out);
    EXPECT_EQ(switches[0], expected(bg, fg)) << read_file(out);
    EXPECT_EQ(switches[1], expected(fg, bg)) << read_file(out);
}

TEST_F(DamondApps, TheExampleHooksDriveAppsWithBusctl) {
    setenv("BUSCTL", env_or("BUSCTL", "/usr/bin/busctl").c_str(), 1);
    const std::string hooks = env_or("DAMOND_HOOKS", DAMOND_HOOKS_DIR);
    const std::string launcher = hooks + "/launcher-hook", focus = hooks + "/focus-hook";
    WorkloadProcess a({"--hot-mib", "1", "--cold-mib", "1"}), b({"--hot-mib", "1", "--cold-mib", "1"});
    const std::string pa = std::to_string(a.pid()), pb = std::to_string(b.pid());
    ManagerProxy m;

    // Launcher style: start, front, back, another app to the front, stop.
    EXPECT_EQ(run_command({launcher, "start", "org.example.Mail", pa}).exit_code, 0);
    EXPECT_EQ(app_state_of(m, "org.example.Mail"), "background");
    EXPECT_EQ(run_command({launcher, "foreground", "org.example.Mail"}).exit_code, 0);
    EXPECT_EQ(app_state_of(m, "org.example.Mail"), "foreground");
    EXPECT_EQ(run_command({launcher, "foreground", "org.example.Maps", pb}).exit_code, 0);  // registers it
    EXPECT_EQ(app_state_of(m, "org.example.Maps"), "foreground");
    EXPECT_EQ(app_state_of(m, "org.example.Mail"), "background");
    const CommandResult unknown = run_command({launcher, "background", "org.example.Nobody"});
    EXPECT_NE(unknown.exit_code, 0);
    EXPECT_NE(unknown.out.find("no app 'org.example.Nobody' is registered"), std::string::npos) << unknown.out;
    EXPECT_EQ(run_command({launcher, "sideways", "org.example.Mail"}).exit_code, 2);
    EXPECT_EQ(run_command({launcher, "stop", "org.example.Maps"}).exit_code, 0);
    EXPECT_EQ(app_state_of(m, "org.example.Maps"), "");

    // Compositor style: focus changes on stdin; repeats are skipped.
    const CommandResult focused =
        run_command({"/bin/sh", "-c",
                     "printf 'org.example.Mail " + pa + "\\norg.example.Maps " + pb + "\\norg.example.Maps " + pb +
                         "\\norg.example.Mail " + pa + "\\n' | " + focus});
    EXPECT_EQ(focused.exit_code, 0) << focused.out;
    EXPECT_EQ(app_state_of(m, "org.example.Mail"), "foreground");
    EXPECT_EQ(app_state_of(m, "org.example.Maps"), "background");
    EXPECT_EQ(m.ForegroundApp(), "org.example.Mail");
    damond->signal(SIGTERM);
    EXPECT_EQ(damond->wait_exit(10000), 0);
}

// Callers that are not root: members of the configured group may; others
// may what polkit authorizes, and nothing else.
TEST(BusPolicy, DamondAuthorizesByGroupAndPolkit) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run clients as another user";
    TempDir dir;
    chmod(dir.path().c_str(), 0755);
    // The shipped policy, plus what polkitd's own bus policy would allow.
    const std::string policy =
        dir.write("policy.conf", policy_with_polkit(env_or("DAMOND_POLICY", "systemd/org.damond1.conf")));
    PrivateBus bus(policy);
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
    const std::string busctl = env_or("BUSCTL", "/usr/bin/busctl");
    auto nobody = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {
            "/usr/bin/setpriv",           "--reuid=65534", "--regid=65534", "--clear-groups", busctl,
            "--address=" + bus.address(), "call",          "org.damond1",   "/org/damond1",   "org.damond1.Manager"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };
    json config = json::parse(kConfig);
    config["profiles"] = {{"p", json::parse(kOtherSpec)}};
    config["apps"] = {{"default", {{"foreground", "p"}, {"background", "p"}}}};

    {  // nobody's primary group is nogroup: as the configured group, it may.
        config["authorization"] = {{"group", "nogroup"}, {"polkit", false}};
        auto damond = start_damond(bus, dir.write("group.json", config.dump()), dir.path() + "/group.log");
        ASSERT_TRUE(damond) << read_file(dir.path() + "/group.log");
        const CommandResult r = nobody({"PauseContext", "s", "demo"});
        EXPECT_EQ(r.exit_code, 0) << r.out << read_file(dir.path() + "/group.log");
        damond->signal(SIGTERM);
        EXPECT_EQ(damond->wait_exit(10000), 0);
    }
    {  // Not in the group: polkit decides, asked about the method's action.
        FakePolkit polkit({"org.damond1.set-app-state"});
        config["authorization"] = {{"group", "damond"}, {"polkit", true}};
        auto damond = start_damond(bus, dir.write("polkit.json", config.dump()), dir.path() + "/polkit.log");
        ASSERT_TRUE(damond) << read_file(dir.path() + "/polkit.log");
        EXPECT_EQ(nobody({"RegisterApp", "sua{sv}", "org.example.Nobody", "0", "0"}).exit_code, 0);
        EXPECT_EQ(nobody({"SetAppState", "ssa{sv}", "org.example.Nobody", "foreground", "0"}).exit_code, 0);
        const CommandResult denied = nobody({"PauseContext", "s", "demo"});
        EXPECT_NE(denied.exit_code, 0);
        // The journal entry follows the reply.
        EXPECT_TRUE(wait_until(
            [&] {
                return read_file(dir.path() + "/polkit.log")
                           .find(
                               "org.damond1.pause needs root or membership of group 'damond' (uid 65534: polkit does "
                               "not authorize it)") != std::string::npos;
            },
            2000))
            << read_file(dir.path() + "/polkit.log");
        const std::vector<std::string> asked = polkit.asked();
        ASSERT_EQ(asked.size(), 3u);
        EXPECT_EQ(asked[0], "org.damond1.set-app-state for system-bus-name flags 0");
        EXPECT_EQ(asked[2], "org.damond1.pause for system-bus-name flags 0");
        // Root is never asked about.
        EXPECT_EQ(run_command({busctl, "--address=" + bus.address(), "call", "org.damond1", "/org/damond1",
                               "org.damond1.Manager", "PauseContext", "s", "demo"})
                      .exit_code,
                  0);
        EXPECT_EQ(polkit.asked().size(), 3u);
        damond->signal(SIGTERM);
        EXPECT_EQ(damond->wait_exit(10000), 0);
    }
}

// polkit is asked without waiting: while it sits on one caller's question,
// everyone else is answered, and the stalled call fails after the bound
// with a name of its own, having done nothing.
TEST(BusPolicy, AStalledPolkitHoldsOnlyTheCallThatAskedIt) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run clients as another user";
    TempDir dir;
    chmod(dir.path().c_str(), 0755);
    const std::string policy =
        dir.write("policy.conf", policy_with_polkit(env_or("DAMOND_POLICY", "systemd/org.damond1.conf")));
    PrivateBus bus(policy);
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
    const std::string busctl = env_or("BUSCTL", "/usr/bin/busctl");
    // dbus-send prints the error's name, which busctl does not.
    const std::vector<std::string> nobody_pause = {"/usr/bin/setpriv",   "--reuid=65534",
                                                   "--regid=65534",      "--clear-groups",
                                                   "/usr/bin/dbus-send", "--bus=" + bus.address(),
                                                   "--print-reply",      "--dest=org.damond1",
                                                   "/org/damond1",       "org.damond1.Manager.PauseContext",
                                                   "string:demo"};
    FakePolkit polkit({"org.damond1.pause"});
    polkit.stall(true);
    json config = json::parse(kConfig);
    // Long enough that the root calls below are answered well inside it on
    // a loaded machine; they take milliseconds.
    config["authorization"] = {{"group", "damond"}, {"polkit", true}, {"polkit_timeout_ms", 4000}};
    auto damond = start_damond(bus, dir.write("stall.json", config.dump()), dir.path() + "/stall.log");
    ASSERT_TRUE(damond) << read_file(dir.path() + "/stall.log");

    Child stalled(nobody_pause, {}, dir.path() + "/nobody.log");
    ASSERT_TRUE(wait_until([&] { return polkit.asked().size() == 1; }, 5000)) << read_file(dir.path() + "/stall.log");
    // polkit holds nobody's question; root's calls go through meanwhile.
    const auto root = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {busctl,         "--address=" + bus.address(), "call", "org.damond1",
                                         "/org/damond1", "org.damond1.Manager"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };
    const CommandResult paused = root({"PauseContext", "s", "demo"});
    EXPECT_EQ(paused.exit_code, 0) << paused.out;
    const CommandResult resumed = root({"ResumeContext", "s", "demo"});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.out;
    EXPECT_EQ(root({"ListContexts"}).exit_code, 0);
    // ... and nobody's call is still waiting: it had no answer yet.
    EXPECT_EQ(stalled.wait_exit(0), -1) << read_file(dir.path() + "/nobody.log");
    EXPECT_EQ(polkit.asked().size(), 1u);

    // Past the bound: a named error, and the context untouched.
    EXPECT_NE(stalled.wait_exit(20000), 0);
    EXPECT_NE(read_file(dir.path() + "/nobody.log")
                  .find("org.damond1.Error.AuthorizationTimedOut: polkit did not answer within 4000 ms"),
              std::string::npos)
        << read_file(dir.path() + "/nobody.log");
    const CommandResult state = run_command({busctl, "--address=" + bus.address(), "get-property", "org.damond1",
                                             "/org/damond1/context/demo", "org.damond1.Context", "State"});
    EXPECT_EQ(state.out, "s \"running\"\n");

    // A polkit that answers again is heard again.
    polkit.stall(false);
    const CommandResult allowed = run_command(nobody_pause);
    EXPECT_EQ(allowed.exit_code, 0) << allowed.out;
    damond->signal(SIGTERM);
    EXPECT_EQ(damond->wait_exit(10000), 0);
}

// apps.reclaim on, through the bus: once the app has been in the background
// for after_ms, its reclaim runs and says what it did on the App object. On
// a machine without swap it pages out nothing and says so; with swap, the
// contexts here have not aggregated 10^6 times, and it says that.
TEST(DamondReclaim, AnAppInTheBackgroundSaysWhatItsReclaimDid) {
    PrivateBus bus;
    TempDir dir;
    const std::string config = R"({
  "backend": "inprocess",
  "profiles": {
    "fine":   {"ops": "vaddr", "intervals": {"sample_us": 100000, "aggr_us": 1000000}},
    "coarse": {"ops": "vaddr", "intervals": {"sample_us": 200000, "aggr_us": 2000000}}
  },
  "apps": {"default": {"foreground": "fine", "background": "coarse"},
           "reclaim": {"enabled": true, "after_ms": 200, "min_aggregations": 1000000}}
})";
    auto damond = start_damond(bus, dir.write("c.json", config), dir.path() + "/log");
    ASSERT_TRUE(damond) << read_file(dir.path() + "/log");
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
    ManagerProxy m;
    WorkloadProcess proc({"--hot-mib", "1", "--cold-mib", "4"});
    m.RegisterApp("org.example.R", static_cast<uint32_t>(proc.pid()), {});
    AppProxy app("/org/damond1/app/org_2eexample_2eR");
    EXPECT_TRUE(app.ReclaimEnabled());
    EXPECT_EQ(app.LastReclaimOutcome(), "");
    m.SetAppState("org.example.R", "foreground", {});
    m.SetAppState("org.example.R", "background", {});
    std::ifstream meminfo("/proc/meminfo");
    std::string key, expected = "nothing paged out: there is no swap";
    for (uint64_t kib = 0; meminfo >> key >> kib;) {
        meminfo.ignore(64, '\n');
        if (key == "SwapTotal:" && kib) expected = "nothing paged out: its foreground context has aggregated";
    }
    std::string outcome;
    for (int i = 0; i < 100 && outcome.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        outcome = app.LastReclaimOutcome();
    }
    EXPECT_EQ(outcome.rfind(expected, 0), 0u) << outcome << "\n" << read_file(dir.path() + "/log");
    EXPECT_EQ(app.ReclaimedBytesTotal(), 0u);
    EXPECT_NE(read_file(dir.path() + "/log").find("app 'org.example.R': reclaim: " + expected), std::string::npos);
    // The metrics carry the app's figures from its first reclaim on.
    const std::string text = m.Metrics("prometheus");
    EXPECT_NE(text.find("damond_app_reclaimed_bytes_total{app=\"org.example.R\"} 0\n"), std::string::npos) << text;
    EXPECT_NE(text.find("damond_app_refault_bytes{app=\"org.example.R\"} 0\n"), std::string::npos) << text;
}
