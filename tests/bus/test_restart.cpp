#include <sys/stat.h>
// damond killed with SIGKILL and started again with the same state
// directory: contexts created at run time, pause wishes, apps with their
// states and processes, and pause holds are all back; a corrupt state file
// is set aside without stopping damond.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../process/workload_process.hpp"
#include "bus_label.hpp"
#include "damond_proxies.hpp"
#include "private_bus.hpp"

using namespace damond::testing;
using nlohmann::json;

namespace {

const char* kConfig = R"({
  "backend": "inprocess",
  "contexts": {"demo": {"ops": "synthetic", "intervals": {"sample_us": 1000, "aggr_us": 20000},
                        "targets": [{"regions": [{"start": 0, "end": 16777216}]}]}},
  "profiles": {
    "fine":   {"ops": "vaddr", "intervals": {"sample_us": 100000, "aggr_us": 1000000}},
    "coarse": {"ops": "vaddr", "intervals": {"sample_us": 200000, "aggr_us": 2000000}}
  },
  "apps": {"default": {"foreground": "fine", "background": "coarse"}}
})";

const char* kExtraSpec = R"({"ops": "synthetic", "intervals": {"sample_us": 2000, "aggr_us": 40000},
  "targets": [{"regions": [{"start": 0, "end": 1048576}]}]})";

class Restart : public ::testing::Test {
protected:
    void SetUp() override {
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_.address().c_str(), 1);
        config_ = dir_.write("c.json", kConfig);
        std::filesystem::create_directory(state_dir());
    }
    void TearDown() override {
        if (damond_) {
            damond_->signal(SIGTERM);
            damond_->wait_exit(10000);
        }
        if (HasFailure()) std::cerr << "--- damond log ---\n" << read_file(log());
    }
    std::string state_dir() const { return dir_.path() + "/state"; }
    std::string log() const { return dir_.path() + "/log"; }
    void start() {
        damond_ = std::make_unique<Child>(
            damond_command({"damond", "--config", config_, "--state-dir", state_dir()}),
            std::map<std::string, std::string>{{"DBUS_SYSTEM_BUS_ADDRESS", bus_.address()}}, log());
        ASSERT_TRUE(wait_until(
            [&] {
                return run_command({env_or("BUSCTL", "/usr/bin/busctl"), "--address=" + bus_.address(), "status",
                                    "org.damond1"})
                           .exit_code == 0;
            },
            15000))
            << read_file(log());
    }
    void kill9() {
        damond_->signal(SIGKILL);
        damond_->wait_exit(10000);
        damond_.reset();
    }
    std::map<std::string, std::string> states(ManagerProxy& m) {
        std::map<std::string, std::string> out;
        for (const auto& c : m.ListContexts()) out[c.get<0>()] = c.get<2>();
        return out;
    }

    PrivateBus bus_;
    TempDir dir_;
    std::string config_;
    std::unique_ptr<Child> damond_;
};

}  // namespace

TEST_F(Restart, AfterKill9EverythingAcknowledgedIsBack) {
    WorkloadProcess a({"--hot-mib", "1", "--cold-mib", "1"}), b({"--hot-mib", "1", "--cold-mib", "1"});
    start();
    uint32_t cookie = 0;
    auto holder = std::make_unique<ManagerProxy>();  // its connection outlives damond
    {
        ManagerProxy m;
        m.CreateContext("extra", kExtraSpec);
        m.PauseContext("demo");
        m.RegisterApp("org.example.A", uint32_t(a.pid()), {});
        m.RegisterApp("org.example.B", uint32_t(b.pid()), {});
        m.SetAppState("org.example.A", "foreground", {});
        cookie = holder->HoldPause("test", "survives a restart");
        ASSERT_EQ(m.PauseHolds().size(), 1u);
    }
    kill9();
    start();

    ManagerProxy m;
    EXPECT_EQ(states(m), (std::map<std::string, std::string>{{"demo", "paused"},
                                                             {"extra", "paused"},  // held, though it wants to run
                                                             {"org.example.A@foreground", "paused"},
                                                             {"org.example.A@background", "paused"},
                                                             {"org.example.B@foreground", "paused"},
                                                             {"org.example.B@background", "paused"}}));
    EXPECT_EQ(app_state_of(m, "org.example.A"), "foreground");
    EXPECT_EQ(app_state_of(m, "org.example.B"), "background");
    // A restart logs its contexts as restored: counting creations in the
    // journal counts each context once.
    const std::string text = read_file(log());
    const auto count = [&text](const std::string& what) {
        size_t n = 0;
        for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count("context 'extra' created"), 1u) << text;
    EXPECT_EQ(count("context 'extra' restored"), 1u) << text;
    EXPECT_EQ(AppProxy(damond::app_object_path("org.example.A")).Pids(), std::vector<uint32_t>{uint32_t(a.pid())});
    ASSERT_EQ(m.PauseHolds().size(), 1u);
    EXPECT_EQ(m.PauseHolds()[0].get<0>(), cookie);
    EXPECT_EQ(m.PauseHolds()[0].get<3>(), "survives a restart");

    // The holder is still the owner: when it goes, everything runs as it wished.
    holder.reset();
    EXPECT_TRUE(wait_until([&] { return m.PauseHolds().empty(); }));
    EXPECT_TRUE(wait_until([&] {
        return states(m) == std::map<std::string, std::string>{{"demo", "paused"},
                                                               {"extra", "running"},
                                                               {"org.example.A@foreground", "running"},
                                                               {"org.example.A@background", "paused"},
                                                               {"org.example.B@foreground", "paused"},
                                                               {"org.example.B@background", "running"}};
    }));
    // Processes are watched again: B goes when its process does.
    EXPECT_EQ(b.finish(), 0);
    EXPECT_TRUE(m.events.wait_for("app org.example.B background->gone", 2000));

    // A process that exited while damond was away takes its app with it.
    kill9();
    EXPECT_EQ(a.finish(), 0);
    start();
    ManagerProxy m2;
    EXPECT_EQ(app_state_of(m2, "org.example.A"), "");
    EXPECT_NE(read_file(log()).find("restore: app 'org.example.A': its processes are gone"), std::string::npos);
    EXPECT_EQ(states(m2), (std::map<std::string, std::string>{{"demo", "paused"}, {"extra", "running"}}));
}

// Which app is in the foreground is written at most once a second and at
// stop, not on every switch; everything else before its reply.
TEST_F(Restart, AppSwitchesAreSavedCoalescedAndAtStop) {
    WorkloadProcess a({"--hot-mib", "1", "--cold-mib", "1"}), b({"--hot-mib", "1", "--cold-mib", "1"});
    start();
    const std::string file = state_dir() + "/state.json";
    auto inode = [&] {
        struct stat st {};
        return ::stat(file.c_str(), &st) == 0 ? st.st_ino : ino_t(0);
    };
    {
        ManagerProxy m;
        m.RegisterApp("org.example.A", uint32_t(a.pid()), {});
        m.RegisterApp("org.example.B", uint32_t(b.pid()), {});
        const ino_t registered = inode();
        ASSERT_NE(registered, ino_t(0));  // a registration is written before its reply
        EXPECT_NE(read_file(file).find("org.example.B"), std::string::npos);
        for (int i = 0; i < 20; ++i) m.SetAppState(i % 2 ? "org.example.B" : "org.example.A", "foreground", {});
        EXPECT_EQ(inode(), registered);  // twenty switches, no write yet (the file is replaced by rename)
        EXPECT_TRUE(wait_until([&] { return inode() != registered; }, 3000));  // one, within the second
        const ino_t coalesced = inode();
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        EXPECT_EQ(inode(), coalesced);  // and nothing more while nothing changes
    }
    kill9();  // after the coalesced write: B, the last one switched, is in the foreground
    start();
    {
        ManagerProxy m;
        EXPECT_EQ(app_state_of(m, "org.example.B"), "foreground");
        EXPECT_EQ(app_state_of(m, "org.example.A"), "background");
        m.SetAppState("org.example.A", "foreground", {});
    }
    // A stop writes what a coalesced write still owed.
    damond_->signal(SIGTERM);
    EXPECT_EQ(damond_->wait_exit(10000), 0);
    damond_.reset();
    start();
    ManagerProxy m;
    EXPECT_EQ(app_state_of(m, "org.example.A"), "foreground");
    EXPECT_EQ(app_state_of(m, "org.example.B"), "background");
}

TEST_F(Restart, ACorruptStateFileIsSetAsideAndDamondStarts) {
    { std::ofstream(state_dir() + "/state.json") << "{\"version\": 1, \"contexts\": {"; }
    start();
    ManagerProxy m;
    EXPECT_EQ(m.ListContexts().size(), 1u);  // just the config's
    EXPECT_TRUE(std::filesystem::exists(state_dir() + "/state.json.corrupt"));
    EXPECT_NE(read_file(log()).find("state.json is unusable"), std::string::npos) << read_file(log());
    // And a new, good one is written at once.
    EXPECT_NO_THROW(json::parse(read_file(state_dir() + "/state.json")));
}

// The in-process core's trained state (regions, counts, ages) comes back
// from its checkpoint when the context is the same one.
TEST_F(Restart, TrainedRegionsAndAgesSurviveARestart) {
    start();
    const std::string spec = R"({"ops": "synthetic", "seed": 4, "intervals": {"sample_us": 1000, "aggr_us": 20000},
        "targets": [{"regions": [{"start": 0, "end": 67108864}],
                     "workload": {"seed": 9, "sets": [{"start": 0, "end": 4194304, "access_bp": 9000}]}}]})";
    std::string before;
    {
        ManagerProxy m;
        m.CreateContext("trained", spec);
        ContextProxy ctx(damond::context_object_path("trained"));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        ctx.Pause();
        before = json::parse(ctx.Snapshot())["targets"].dump();
    }
    // Ages well above zero: this is trained state, not a fresh start.
    const json regions = json::parse(before)[0]["regions"];
    EXPECT_GT(std::max_element(regions.begin(), regions.end(),
                               [](const json& x, const json& y) { return x["age"] < y["age"]; })
                  ->at("age")
                  .get<int>(),
              5);
    damond_->signal(SIGTERM);  // checkpoints are written on the way out
    ASSERT_EQ(damond_->wait_exit(10000), 0);
    damond_.reset();
    start();
    {
        ManagerProxy m;
        ContextProxy ctx(damond::context_object_path("trained"));
        EXPECT_EQ(ctx.State(), "paused");
        EXPECT_EQ(json::parse(ctx.Snapshot())["targets"].dump(), before);
        EXPECT_NE(read_file(log()).find("context 'trained': warm start from its checkpoint"), std::string::npos);
        // Checkpoints are offered only to the contexts of the restart: one
        // created later, even of the same name and spec, starts afresh.
        m.RemoveContext("trained");
        m.CreateContext("trained", spec);
        EXPECT_NE(json::parse(ContextProxy(damond::context_object_path("trained")).Snapshot())["targets"].dump(),
                  before);
    }
}

TEST_F(Restart, FigureHistoryIsKeptAcrossAStop) {
    // A point a second, so that a few are there before the stop.
    config_ = dir_.write("c.json", std::string(kConfig).replace(1, 0, R"("metrics": {"history_interval_ms": 1000},)"));
    start();
    auto history = [&] {
        ContextProxy ctx(damond::context_object_path("demo"));
        return std::get<1>(ctx.History());
    };
    ASSERT_TRUE(wait_until([&] { return history().size() >= 3; }, 10000));
    damond_->signal(SIGTERM);  // the history is saved on the way out
    ASSERT_EQ(damond_->wait_exit(10000), 0);
    damond_.reset();
    EXPECT_TRUE(std::filesystem::exists(state_dir() + "/history"));
    const auto stopped_at = std::chrono::system_clock::now();
    start();
    const auto after = history();
    ASSERT_GE(after.size(), 3u) << "the points from before the stop";
    // The first point is from before the stop.
    const uint64_t stop_us =
        uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(stopped_at.time_since_epoch()).count());
    EXPECT_LT(after[0].get<0>(), stop_us);
}
