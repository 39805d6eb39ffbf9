#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "base/errors.hpp"
#include "blocking_monitor.hpp"
#include "loop_queue.hpp"
#include "manager/app_registry.hpp"
#include "manager_forms.hpp"
#include "monitor_fixture.hpp"
#include "temp_dir.hpp"

using namespace damond;
using namespace damond::testing;

namespace {

const char* kAppsConfig = R"({
  "profiles": {
    "fine":   {"ops": "synthetic", "seed": 1, "intervals": {"sample_us": 1000, "aggr_us": 20000},
               "targets": [{"regions": [{"start": 0, "end": 16777216}],
                            "workload": {"sets": [{"start": 0, "end": 2097152, "access_bp": 8000}]}}]},
    "coarse": {"ops": "synthetic", "seed": 2, "intervals": {"sample_us": 5000, "aggr_us": 100000},
               "targets": [{"regions": [{"start": 0, "end": 16777216}],
                            "workload": {"sets": [{"start": 8388608, "end": 9437184, "access_bp": 3000}]}}]},
    "broken": {"ops": "synthetic", "seed": 666, "targets": [{"regions": [{"start": 0, "end": 1048576}]}]}
  },
  "apps": {"default": {"foreground": "fine", "background": "coarse"},
           "rules": [{"app_id": "com.example.broken", "foreground": "broken", "background": "coarse"},
                     {"app_id": "com.example.auto", "foreground": "fine", "background": "coarse"}]}
})";

// Resumes fail for specs seeded 666, to test the switch's rollback.
class FlakyMonitor : public InProcessMonitor {
public:
    FlakyMonitor(const ContextSpec& s, Executor& e, SystemMetrics& m)
        : InProcessMonitor(s, e, m), fail_(s.seed == 666) {}
    void resume() override {
        if (fail_) throw DamondError(ErrorKind::Failed, "this monitor cannot resume");
        InProcessMonitor::resume();
    }

private:
    bool fail_;
};

struct Events : AppListener {
    std::vector<std::string> log;
    void app_added(const std::string& id) override { log.push_back("added " + id); }
    void app_removed(const std::string& id) override { log.push_back("removed " + id); }
    void app_state_changed(const std::string& id, AppState o, AppTransition n) override {
        log.push_back(id + " " + to_string(o) + "->" + to_string(n));
    }
};

struct AppsTest : ::testing::Test {
    VirtualTime vt;
    Manager manager{test_parts([this](const std::string&, const ContextSpec& s) -> std::unique_ptr<Monitor> {
        return std::make_unique<FlakyMonitor>(s, vt.executor, vt.metrics);
    })};
    ManagerForms sync{manager};
    Events events;
    // What the registry scheduled (debounced switches): (at_us, fn).
    std::vector<std::pair<uint64_t, std::function<void()>>> timers;
    AppRegistry apps{manager, app_parts()};
    AppForms sync_apps{apps};
    AppRegistry::Parts app_parts() {
        AppRegistry::Parts p = test_app_parts(
            config_from_json_text(kAppsConfig).apps, [this] { return vt.clock.now_us(); }, &events);
        p.schedule = [this](uint64_t at, std::function<void()> fn) { timers.emplace_back(at, std::move(fn)); };
        return p;
    }
    MonitorState state(const std::string& app, AppState which) {
        return manager.state(AppRegistry::context_name(app, which));
    }
};

using damond::testing::TempDir;

ErrorKind kind_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const DamondError& e) {
        return e.kind();
    }
    return ErrorKind::Failed;
}

}  // namespace

TEST(AppsConfig, ProfilesAndRulesAreCheckedByName) {
    const Config c = config_from_json_text(kAppsConfig);
    EXPECT_EQ(c.apps.profiles.size(), 3u);
    EXPECT_EQ(c.apps.default_foreground, "fine");
    EXPECT_TRUE(c.apps.one_foreground);
    try {
        config_from_json_text(
            R"({"profiles": {}, "apps": {"rules": [{"app_id": "x", "foreground": "nope", "background": "nope"}]}})");
        FAIL();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.path(), "apps.rules[0].foreground");
        EXPECT_NE(std::string(e.what()).find("no profile named 'nope'"), std::string::npos);
    }
    EXPECT_THROW(config_from_json_text(R"({"profiles": {"p": {"ops": "synthetic", "colour": 1}}})"), SpecError);
}

TEST_F(AppsTest, RegisteringMakesTwoContextsWithTheBackgroundOneRunning) {
    sync_apps.register_app("org.example.Player", 0);
    EXPECT_EQ(state("org.example.Player", AppState::Background), MonitorState::Running);
    EXPECT_EQ(state("org.example.Player", AppState::Foreground), MonitorState::Paused);
    EXPECT_EQ(apps.app("org.example.Player").state, AppState::Background);
    EXPECT_EQ(kind_of([&] { sync_apps.register_app("org.example.Player", 0); }), ErrorKind::Busy);
    EXPECT_EQ(kind_of([&] { sync_apps.set_app_state("nobody", AppState::Foreground); }), ErrorKind::NoSuchApp);
    EXPECT_EQ(kind_of([] { app_state_from_string("sideways"); }), ErrorKind::InvalidArgument);
    EXPECT_EQ(events.log, (std::vector<std::string>{"added org.example.Player"}));
}

TEST_F(AppsTest, ASwitchPausesOneContextAndResumesTheOtherWithNothingLost) {
    sync_apps.register_app("a", 0);
    vt.advance(300000);
    const MonitorSnapshot fg_at_pause = sync.snapshot(AppRegistry::context_name("a", AppState::Foreground));
    EXPECT_TRUE(sync_apps.set_app_state("a", AppState::Foreground));
    EXPECT_EQ(state("a", AppState::Foreground), MonitorState::Running);
    EXPECT_EQ(state("a", AppState::Background), MonitorState::Paused);
    const MonitorSnapshot bg_at_pause = sync.snapshot(AppRegistry::context_name("a", AppState::Background));
    vt.advance(500000);
    EXPECT_FALSE(sync_apps.set_app_state("a", AppState::Foreground));  // repeated: nothing happens
    EXPECT_TRUE(sync_apps.set_app_state("a", AppState::Background));
    // Each context takes up exactly where it was paused.
    EXPECT_EQ(sync.snapshot(AppRegistry::context_name("a", AppState::Background)), bg_at_pause);
    EXPECT_NE(sync.snapshot(AppRegistry::context_name("a", AppState::Foreground)), fg_at_pause);
    EXPECT_EQ(events.log,
              (std::vector<std::string>{"added a", "a background->foreground", "a foreground->background"}));
}

TEST_F(AppsTest, OneForegroundAppAtATime) {
    sync_apps.register_app("a", 0);
    sync_apps.register_app("b", 0);
    sync_apps.set_app_state("a", AppState::Foreground);
    sync_apps.set_app_state("b", AppState::Foreground);
    EXPECT_EQ(apps.app("a").state, AppState::Background);
    EXPECT_EQ(apps.foreground_app(), "b");
    EXPECT_EQ(state("a", AppState::Background), MonitorState::Running);
    EXPECT_EQ(state("a", AppState::Foreground), MonitorState::Paused);
    EXPECT_EQ(events.log.back(), "a foreground->background");
}

TEST_F(AppsTest, AFailedSwitchLeavesTheAppAsItWas) {
    sync_apps.register_app("com.example.broken", 0);
    EXPECT_EQ(kind_of([&] { sync_apps.set_app_state("com.example.broken", AppState::Foreground); }), ErrorKind::Failed);
    EXPECT_EQ(apps.app("com.example.broken").state, AppState::Background);
    EXPECT_EQ(state("com.example.broken", AppState::Background), MonitorState::Running);
    EXPECT_EQ(state("com.example.broken", AppState::Foreground), MonitorState::Paused);
}

TEST_F(AppsTest, SwitchesAndForegroundTimeAreCounted) {
    sync_apps.register_app("com.example.a", 0);
    sync_apps.register_app("com.example.broken", 0);
    vt.clock.advance(1000000);
    sync_apps.set_app_state("com.example.a", AppState::Foreground);
    vt.clock.advance(2000000);
    EXPECT_EQ(apps.foreground_us(apps.app("com.example.a")), 2000000u);  // the stay under way counts
    sync_apps.set_app_state("com.example.a", AppState::Background);
    vt.clock.advance(5000000);
    sync_apps.set_app_state("com.example.a", AppState::Foreground);
    vt.clock.advance(500000);
    EXPECT_EQ(apps.app("com.example.a").switches, 3u);
    EXPECT_EQ(apps.foreground_us(apps.app("com.example.a")), 2500000u);
    EXPECT_EQ(apps.switch_seconds().count(), 3u);
    EXPECT_EQ(apps.failed_switches(), 0u);
    EXPECT_EQ(kind_of([&] { sync_apps.set_app_state("com.example.broken", AppState::Foreground); }), ErrorKind::Failed);
    EXPECT_EQ(apps.failed_switches(), 1u);
    EXPECT_EQ(apps.app("com.example.broken").switches, 0u);
    EXPECT_EQ(apps.switch_seconds().count(), 3u);
}

TEST_F(AppsTest, UnregisteringRemovesBothContextsAndSaysGone) {
    sync_apps.register_app("a", 0);
    sync_apps.unregister_app("a");
    EXPECT_FALSE(manager.has_context(AppRegistry::context_name("a", AppState::Foreground)));
    EXPECT_FALSE(manager.has_context(AppRegistry::context_name("a", AppState::Background)));
    EXPECT_EQ(events.log, (std::vector<std::string>{"added a", "a background->gone", "removed a"}));
    EXPECT_EQ(kind_of([&] { sync_apps.unregister_app("a"); }), ErrorKind::NoSuchApp);
}

TEST_F(AppsTest, AutoRegistrationOnlyForAppsARuleNames) {
    AppsConfig c = config_from_json_text(kAppsConfig).apps;
    c.auto_register = true;
    apps.set_config(c);
    EXPECT_TRUE(sync_apps.set_app_state("com.example.auto", AppState::Foreground));
    EXPECT_EQ(apps.app("com.example.auto").state, AppState::Foreground);
    EXPECT_EQ(kind_of([&] { sync_apps.set_app_state("com.example.unknown", AppState::Foreground); }),
              ErrorKind::NoSuchApp);
}

TEST_F(AppsTest, WithoutADefaultPairAnUnnamedAppIsRefusedAndLeavesNothing) {
    AppsConfig c = config_from_json_text(kAppsConfig).apps;
    c.default_foreground.clear();
    c.default_background.clear();
    apps.set_config(c);
    EXPECT_EQ(kind_of([&] { sync_apps.register_app("x", 0); }), ErrorKind::NotSupported);
    EXPECT_TRUE(manager.list_contexts().empty());
}

TEST_F(AppsTest, DebounceCollapsesFlappingIntoOneSwitchPerPeriod) {
    AppsConfig c = config_from_json_text(kAppsConfig).apps;
    c.debounce_ms = 100;
    apps.set_config(c);
    sync_apps.register_app("a", 0);

    EXPECT_TRUE(sync_apps.set_app_state("a", AppState::Foreground));  // the first event switches at once
    const uint64_t quiet_until = vt.clock.now_us() + 100000;
    vt.advance(10000);
    // Flapping inside the period: background, foreground, background, foreground.
    for (AppState s : {AppState::Background, AppState::Foreground, AppState::Background, AppState::Foreground})
        EXPECT_FALSE(sync_apps.set_app_state("a", s));
    EXPECT_EQ(apps.app("a").state, AppState::Foreground);
    ASSERT_EQ(timers.size(), 1u);  // one timer however many events
    EXPECT_EQ(timers[0].first, quiet_until);
    vt.advance(90000);
    timers[0].second();  // the last word was "foreground": no switch at all
    EXPECT_EQ(apps.app("a").state, AppState::Foreground);
    EXPECT_EQ(events.log, (std::vector<std::string>{"added a", "a background->foreground"}));

    // Past the period an event switches at once again ...
    EXPECT_TRUE(sync_apps.set_app_state("a", AppState::Background));
    // ... and one that ends a flap on a different word switches at the end of the next.
    vt.advance(5000);
    EXPECT_FALSE(sync_apps.set_app_state("a", AppState::Foreground));
    EXPECT_FALSE(sync_apps.set_app_state("a", AppState::Background));
    EXPECT_FALSE(sync_apps.set_app_state("a", AppState::Foreground));
    ASSERT_EQ(timers.size(), 2u);
    vt.advance(95000);
    timers[1].second();
    EXPECT_EQ(apps.app("a").state, AppState::Foreground);
    EXPECT_EQ(state("a", AppState::Foreground), MonitorState::Running);
    EXPECT_EQ(state("a", AppState::Background), MonitorState::Paused);
    EXPECT_EQ(events.log.size(), 4u);
}

TEST_F(AppsTest, ARuleFindsTheAppsProcessesByCgroupOrExecutable) {
    TempDir dir;
    // Processes that live as long as the test: found processes are watched.
    const auto me = uint32_t(getpid()), parent = uint32_t(getppid());
    dir.write("cgroup.procs", std::to_string(me) + "\n" + std::to_string(parent) + "\n");
    AppsConfig c = config_from_json_text(kAppsConfig).apps;
    c.rules.push_back(AppRule{"org.example.Cg", "fine", "coarse", "", dir.path(), {}});
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    ASSERT_GT(n, 0);
    c.rules.push_back(AppRule{"org.example.Exe", "fine", "coarse", std::string(self, size_t(n)), "", {}});
    apps.set_config(c);
    sync_apps.register_app("org.example.Cg", 0);
    EXPECT_EQ(apps.app("org.example.Cg").pids, (std::vector<uint32_t>{me, parent}));
    sync_apps.register_app("org.example.Exe", 0);
    const auto& pids = apps.app("org.example.Exe").pids;
    EXPECT_NE(std::find(pids.begin(), pids.end(), uint32_t(getpid())), pids.end());
    // A pid from the hook wins over the rule.
    sync_apps.unregister_app("org.example.Cg");
    sync_apps.register_app("org.example.Cg", parent);
    EXPECT_EQ(apps.app("org.example.Cg").pids, (std::vector<uint32_t>{parent}));
}

// On a monitor that blocks (a kernel context), a switch resumes the app's
// new context first and answers once it runs; the old context pauses after,
// nobody waiting on it: the app the user just opened is monitored at once.
TEST(AppSwitch, TheNewContextRunsFirstAndTheAnswerDoesNotWaitForTheOldOnesPause) {
    Gate gate;
    LoopQueue loop;
    Manager manager{test_parts(
        [&](const std::string& name, const ContextSpec&) -> std::unique_ptr<Monitor> {
            return std::make_unique<BlockingMonitor>(name, gate);
        },
        loop.poster())};
    AppRegistry apps{manager, test_app_parts(config_from_json_text(kAppsConfig).apps, [] { return uint64_t{0}; })};
    AppForms sync_apps{apps, [&] { loop.turn_or_wait(); }};
    sync_apps.register_app("a", 0);
    const std::string fg = AppRegistry::context_name("a", AppState::Foreground);
    const std::string bg = AppRegistry::context_name("a", AppState::Background);

    gate.hold_only(bg + " pause");
    bool answered = false;
    std::exception_ptr error;
    apps.set_app_state("a", AppState::Foreground, 0, [&](std::exception_ptr e, bool) {
        answered = true;
        error = e;
    });
    ASSERT_TRUE(loop.until([&] { return answered; }));
    EXPECT_FALSE(error);
    EXPECT_EQ(apps.app("a").state, AppState::Foreground);
    EXPECT_TRUE(loop.until([&] { return gate.waiting() == 1; }));  // the old context's pause, under way
    std::vector<std::string> log = gate.log();
    EXPECT_EQ(log.back(), fg + " resume");

    // A second switch of the app waits for the first to be whole.
    bool back = false;
    apps.set_app_state("a", AppState::Background, 0, [&](std::exception_ptr e, bool) { back = !e; });
    for (int i = 0; i < 50; ++i) loop.turn_or_wait();  // 100 ms or so
    EXPECT_FALSE(back);
    gate.release();
    ASSERT_TRUE(loop.until([&] { return back; }));
    ASSERT_TRUE(loop.until([&] { return gate.log().back() == fg + " pause"; }));
    log = gate.log();
    const std::vector<std::string> tail(log.end() - 3, log.end());
    EXPECT_EQ(tail, (std::vector<std::string>{bg + " pause", bg + " resume", fg + " pause"}));
    ManagerForms(manager, [&] { loop.turn_or_wait(); }).stop_all();
}

// The recents: each app that leaves the foreground marks its foreground
// context likely to resume soon, after its pause; the one pushed out of the
// last `recent_apps` is marked back. Coming to the foreground takes an app
// out of them, so it is marked again when it leaves.
TEST(AppSwitch, TheLastAppsToLeaveTheForegroundAreMarkedLikelyToResume) {
    Gate gate;
    LoopQueue loop;
    Manager manager{test_parts(
        [&](const std::string& name, const ContextSpec&) -> std::unique_ptr<Monitor> {
            return std::make_unique<BlockingMonitor>(name, gate);
        },
        loop.poster())};
    AppsConfig config = config_from_json_text(kAppsConfig).apps;
    config.recent_apps = 2;
    AppRegistry apps{manager, test_app_parts(config, [] { return uint64_t{0}; })};
    AppForms sync_apps{apps, [&] { loop.turn_or_wait(); }};
    for (const char* id : {"a", "b", "c", "d"}) sync_apps.register_app(id, 0);
    auto marks = [&] {
        std::vector<std::string> out;
        for (const std::string& op : gate.log())
            if (op.find("quick") != std::string::npos) out.push_back(op);
        return out;
    };
    auto fg = [](const std::string& id) { return AppRegistry::context_name(id, AppState::Foreground); };
    for (const char* id : {"a", "b", "c", "d", "a"}) {
        const size_t before = marks().size();
        sync_apps.set_app_state(id, AppState::Foreground);
        // The previous app's demotion runs after the answer; its mark last.
        if (std::string(id) != "a" || before) {
            ASSERT_TRUE(loop.until([&] { return marks().size() > before; })) << id;
        }
    }
    ASSERT_TRUE(loop.until([&] { return marks().size() >= 6; }));
    // Each context's marks in order (contexts run on threads of their own).
    std::map<std::string, std::vector<std::string>> by_context;
    for (const std::string& m : marks()) by_context[m.substr(0, m.find(' '))].push_back(m.substr(m.find(' ') + 1));
    using Marks = std::vector<std::string>;
    EXPECT_EQ(by_context, (std::map<std::string, Marks>{{fg("a"), Marks{"quick", "not quick"}},
                                                        {fg("b"), Marks{"quick", "not quick"}},
                                                        {fg("c"), Marks{"quick"}},
                                                        {fg("d"), Marks{"quick"}}}));
    ManagerForms(manager, [&] { loop.turn_or_wait(); }).stop_all();
}
