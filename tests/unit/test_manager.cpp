#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "base/errors.hpp"
#include "blocking_monitor.hpp"
#include "manager/manager.hpp"
#include "loop_queue.hpp"
#include "manager_forms.hpp"
#include "monitor/snapshot_json.hpp"
#include "monitor_fixture.hpp"

using namespace damond;
using namespace damond::testing;

namespace {

struct Recorder : ManagerListener {
    std::vector<std::string> events;
    void context_added(const std::string& n) override { events.push_back("added " + n); }
    void context_removed(const std::string& n) override { events.push_back("removed " + n); }
    void context_changed(const std::string& n, const std::vector<ContextField>& fields) override {
        std::string e = "changed " + n;
        for (ContextField f : fields)
            e += f == ContextField::State   ? " State"
                 : f == ContextField::Spec  ? " Spec"
                 : f == ContextField::Holds ? " Holds"
                 : f == ContextField::Stats ? " Stats"
                                            : " LastError";
        events.push_back(e);
    }
    int holds_changes = 0;
    void holds_changed() override { ++holds_changes; }
};

struct ManagerTest : ::testing::Test {
    VirtualTime vt;
    Recorder rec;
    std::string backend_detail;  // what status_text() shows after the backend
    Manager manager{parts()};
    ManagerForms sync{manager};
    ManagerParts parts() {
        ManagerParts p = test_parts(
            [this](const std::string&, const ContextSpec& s) -> std::unique_ptr<Monitor> {
                return std::make_unique<InProcessMonitor>(s, vt.executor, vt.metrics);
            },
            run_here, &rec);
        p.now_us = [this] { return vt.clock.now_us(); };
        p.backend_detail = [this] { return backend_detail; };
        return p;
    }
};

ErrorKind kind_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const DamondError& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no error";
    return ErrorKind::Failed;
}

}  // namespace

TEST_F(ManagerTest, CreatePauseResumeRemove) {
    sync.create_context("demo", kDemoSpec);
    EXPECT_EQ(manager.state("demo"), MonitorState::Running);
    sync.pause_context("demo");
    EXPECT_EQ(manager.state("demo"), MonitorState::Paused);
    EXPECT_NE(manager.spec_json("demo").find("\"pause\":true"), std::string::npos);
    sync.pause_context("demo");  // no change, no signal
    sync.resume_context("demo");
    sync.remove_context("demo");
    EXPECT_EQ(rec.events, (std::vector<std::string>{"added demo", "changed demo State Spec", "changed demo State Spec",
                                                    "removed demo"}));
    EXPECT_EQ(kind_of([&] { sync.pause_context("demo"); }), ErrorKind::NoSuchContext);
}

TEST_F(ManagerTest, CountersSayWhatHappenedToTheContext) {
    sync.create_context("demo", kDemoSpec);
    vt.advance(100000);
    sync.pause_context("demo");
    vt.advance(300000);
    EXPECT_EQ(manager.paused_us("demo"), 300000u);              // the pause under way counts
    EXPECT_EQ(manager.context_counters("demo").paused_us, 0u);  // not in the cacheable counters
    sync.pause_context("demo");                                 // already paused: no second pause
    sync.resume_context("demo");
    vt.advance(200000);
    // A hold pauses too: a pause however it comes about.
    const uint32_t cookie = sync.hold_pause("demo", "test", "counting");
    vt.advance(50000);
    sync.release_pause(cookie);
    sync.commit_context("demo", R"({"nr_regions": {"min": 10, "max": 100}})");
    EXPECT_THROW(sync.commit_context("demo", R"({"intervals": {"sample_us": 0}})"), DamondError);
    const ContextCounters c = manager.context_counters("demo");
    EXPECT_EQ(c.pauses, 2u);
    EXPECT_EQ(c.resumes, 2u);
    EXPECT_EQ(c.paused_us, 350000u);
    EXPECT_EQ(c.commits_ok, 1u);
    EXPECT_EQ(c.commits_invalid, 1u);
    EXPECT_EQ(c.commits_failed, 0u);
}

TEST_F(ManagerTest, StatsAreAnnouncedOncePerAggregationAtMost) {
    sync.create_context("demo", kDemoSpec);
    rec.events.clear();
    EXPECT_TRUE(manager.announce_stats());  // running: the caller keeps ticking
    EXPECT_EQ(rec.events, (std::vector<std::string>{"changed demo Stats"}));
    EXPECT_TRUE(manager.announce_stats());  // no aggregation since: nothing
    EXPECT_EQ(rec.events.size(), 1u);
    const uint64_t aggr_us = manager.context_figures("demo").aggr_us;
    vt.advance(aggr_us * 3);
    EXPECT_GE(manager.context_figures("demo").nr_aggregations, 3u);
    EXPECT_TRUE(manager.announce_stats());  // three aggregations, one announcement
    EXPECT_EQ(rec.events.size(), 2u);
    sync.pause_context("demo");
    rec.events.clear();
    manager.announce_stats();
    vt.advance(aggr_us * 3);
    EXPECT_FALSE(manager.announce_stats());  // nothing runs: the tick may rest
    EXPECT_TRUE(rec.events.empty() || rec.events == std::vector<std::string>{"changed demo Stats"});
    EXPECT_GT(manager.context_figures("demo").monitored_bytes, 0u);
}

TEST_F(ManagerTest, BadCommitLeavesSpecAndStateAlone) {
    sync.create_context("demo", kDemoSpec);
    vt.advance(50000);
    sync.pause_context("demo");
    const std::string spec = manager.spec_json("demo");
    const MonitorSnapshot snap = sync.snapshot("demo");
    try {
        sync.commit_context("demo", R"({"intervals": {"sample_us": 0}})");
        FAIL();
    } catch (const DamondError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidSpec);
        EXPECT_NE(std::string(e.what()).find("intervals.sample_us"), std::string::npos) << e.what();
    }
    EXPECT_EQ(manager.spec_json("demo"), spec);
    EXPECT_EQ(sync.snapshot("demo"), snap);
    EXPECT_NE(manager.last_error("demo").find("intervals.sample_us"), std::string::npos);
    EXPECT_EQ(rec.events.back(), "changed demo LastError");

    sync.commit_context("demo", R"({"intervals": {"update_us": 2000000}})");
    EXPECT_EQ(manager.last_error("demo"), "");
    EXPECT_EQ(rec.events.back(), "changed demo Spec LastError");
    EXPECT_EQ(manager.state("demo"), MonitorState::Paused);  // pause survives a commit that omits it
}

TEST_F(ManagerTest, RejectsBadNamesDuplicatesAndUnsupportedSpecs) {
    EXPECT_EQ(kind_of([&] { sync.create_context("", kDemoSpec); }), ErrorKind::InvalidArgument);
    EXPECT_EQ(kind_of([&] { sync.create_context("a/b", kDemoSpec); }), ErrorKind::InvalidArgument);
    EXPECT_EQ(kind_of([&] { sync.create_context("x", "{}"); }), ErrorKind::InvalidSpec);
    EXPECT_EQ(kind_of([&] { sync.create_context("x", R"({"ops": "paddr"})"); }), ErrorKind::NotSupported);
    sync.create_context("demo", kDemoSpec);
    EXPECT_EQ(kind_of([&] { sync.create_context("demo", kDemoSpec); }), ErrorKind::Busy);
    EXPECT_EQ(manager.list_contexts().size(), 1u);
}

TEST_F(ManagerTest, ApplyConfigAddsCommitsAndRemovesOnlyConfigContexts) {
    Config c;
    c.contexts.emplace("a", spec_from_json_text(kDemoSpec));
    c.contexts.emplace("b", spec_from_json_text(kDemoSpec));
    EXPECT_TRUE(sync.apply_config(c).empty());
    sync.create_context("runtime", kDemoSpec);
    sync.pause_context("a");

    c.contexts.erase("b");
    c.contexts.at("a").intervals.update_us = 3000000;
    EXPECT_TRUE(sync.apply_config(c).empty());
    EXPECT_FALSE(manager.has_context("b"));
    EXPECT_TRUE(manager.has_context("runtime"));
    EXPECT_NE(manager.spec_json("a").find("3000000"), std::string::npos);
    EXPECT_EQ(manager.state("a"), MonitorState::Paused);  // a reload keeps a runtime pause
    EXPECT_EQ(manager.status_text(), "2 contexts, 1 paused, backend inprocess");
}

TEST_F(ManagerTest, AHoldKeepsAContextPausedWhateverResumeAsksUntilItIsReleased) {
    sync.create_context("demo", kDemoSpec);
    vt.advance(50000);
    const uint32_t cookie = sync.hold_pause("demo", "damo", "dump the regions");
    EXPECT_EQ(manager.state("demo"), MonitorState::Paused);
    EXPECT_EQ(rec.events.back(), "changed demo Holds");
    EXPECT_EQ(rec.holds_changes, 1);
    const MonitorSnapshot held = sync.snapshot("demo");

    // Resume records the wish; the hold wins until it goes.
    sync.resume_context("demo");
    vt.advance(500000);
    EXPECT_EQ(manager.state("demo"), MonitorState::Paused);
    EXPECT_EQ(sync.snapshot("demo"), held);
    EXPECT_NE(manager.spec_json("demo").find("\"pause\":false"), std::string::npos);
    EXPECT_EQ(sync.snapshot_json("demo"), snapshot_to_json(held).dump());  // nothing sampled while held
    // A commit while held keeps it paused, too.
    sync.commit_context("demo", R"({"intervals": {"update_us": 2000000}})");
    EXPECT_EQ(manager.state("demo"), MonitorState::Paused);

    ASSERT_EQ(manager.holds_on("demo").size(), 1u);
    EXPECT_EQ(manager.holds_on("demo")[0].who, "damo");
    sync.release_pause(cookie);
    EXPECT_EQ(manager.state("demo"), MonitorState::Running);
    EXPECT_EQ(kind_of([&] { sync.release_pause(cookie); }), ErrorKind::NoSuchHold);
}

TEST_F(ManagerTest, HoldsCountAndAPausedContextStaysPausedWhenTheyGo) {
    sync.create_context("a", kDemoSpec);
    sync.create_context("b", kDemoSpec);
    const uint32_t all = sync.hold_pause("", "tool", "consistent dump");
    const uint32_t one = sync.hold_pause("a", "tool", "look at a");
    EXPECT_EQ(manager.state("a"), MonitorState::Paused);
    EXPECT_EQ(manager.state("b"), MonitorState::Paused);
    // Created under a hold on everything: starts paused.
    sync.create_context("c", kDemoSpec);
    EXPECT_EQ(manager.state("c"), MonitorState::Paused);
    EXPECT_EQ(manager.holds_on("a").size(), 2u);
    EXPECT_EQ(manager.holds_on("b").size(), 1u);

    sync.pause_context("b");  // b's own wish: paused
    sync.release_pause(all);
    EXPECT_EQ(manager.state("a"), MonitorState::Paused);  // still held by `one`
    EXPECT_EQ(manager.state("b"), MonitorState::Paused);  // its own wish
    EXPECT_EQ(manager.state("c"), MonitorState::Running);
    // A context's ReleasePause only takes its own holds.
    const std::string b = "b";
    EXPECT_EQ(kind_of([&] { sync.release_pause(one, &b); }), ErrorKind::NoSuchHold);
    const std::string a = "a";
    sync.release_pause(one, &a);
    EXPECT_EQ(manager.state("a"), MonitorState::Running);
    EXPECT_TRUE(manager.holds().empty());
}

TEST_F(ManagerTest, AHoldersHoldsGoWithItAndBadHoldsChangeNothing) {
    sync.create_context("demo", kDemoSpec);
    sync.hold_pause("demo", "client", "a", ":1.7");
    sync.hold_pause("", "client", "b", ":1.7");
    const uint32_t other = sync.hold_pause("demo", "other", "c", ":1.8");
    EXPECT_EQ(manager.release_holds_of(":1.7"), 2u);
    EXPECT_EQ(manager.state("demo"), MonitorState::Paused);
    ASSERT_EQ(manager.holds().size(), 1u);
    EXPECT_EQ(manager.holds()[0].cookie, other);
    EXPECT_EQ(manager.release_holds_of(":1.8"), 1u);
    EXPECT_EQ(manager.state("demo"), MonitorState::Running);

    EXPECT_EQ(kind_of([&] { sync.hold_pause("nope", "x", "y"); }), ErrorKind::NoSuchContext);
    EXPECT_EQ(kind_of([&] { sync.hold_pause("demo", "", "y"); }), ErrorKind::InvalidArgument);
    EXPECT_EQ(kind_of([&] { sync.hold_pause("demo", "x", "line\nbreak"); }), ErrorKind::InvalidArgument);
    EXPECT_TRUE(manager.holds().empty());
    EXPECT_EQ(manager.state("demo"), MonitorState::Running);

    // Removing a context drops the holds taken on it.
    sync.hold_pause("demo", "x", "y");
    sync.remove_context("demo");
    EXPECT_TRUE(manager.holds().empty());
}

TEST_F(ManagerTest, StatusSaysWhatRunsAndHowTheBackendPauses) {
    sync.create_context("a", kDemoSpec);
    sync.create_context("b", kDemoSpec);
    sync.pause_context("b");
    EXPECT_EQ(manager.status_text(), "2 contexts, 1 paused, backend inprocess");
    backend_detail = "watermarks";
    sync.hold_pause("a", "t", "x");
    EXPECT_EQ(manager.status_text(), "2 contexts, 2 paused, backend inprocess (watermarks), 1 pause hold(s)");
}

namespace {

// Asks to settle a second after each pause (as a kernel context deepens it).
class SettlingMonitor : public InProcessMonitor {
public:
    SettlingMonitor(const ContextSpec& s, Executor& e, SystemMetrics& m, int& settled)
        : InProcessMonitor(s, e, m), settled_(settled) {}
    uint64_t settle_after_ms() const override { return state() == MonitorState::Paused && !settled_once_ ? 1000 : 0; }
    void settle() override {
        ++settled_;
        settled_once_ = true;
    }
    void resume() override {
        settled_once_ = false;
        InProcessMonitor::resume();
    }

private:
    int& settled_;
    bool settled_once_ = false;
};

}  // namespace

// The manager runs a monitor's settle() when it has been left alone for the
// time it asked, and not when another operation came in between.
TEST(ManagerSettle, SettlesWhenLeftAloneAndNotAfterAnotherOperation) {
    VirtualTime vt;
    int settled = 0;
    std::vector<std::pair<uint64_t, std::function<void()>>> timers;
    ManagerParts parts = test_parts([&](const std::string&, const ContextSpec& s) -> std::unique_ptr<Monitor> {
        return std::make_unique<SettlingMonitor>(s, vt.executor, vt.metrics, settled);
    });
    parts.schedule = [&](uint64_t delay_ms, std::function<void()> fn) { timers.emplace_back(delay_ms, fn); };
    Manager manager{parts};
    ManagerForms sync{manager};
    sync.create_context("demo", kDemoSpec);
    EXPECT_TRUE(timers.empty());  // running: nothing to settle
    sync.pause_context("demo");
    ASSERT_EQ(timers.size(), 1u);
    EXPECT_EQ(timers[0].first, 1000u);
    timers[0].second();
    EXPECT_EQ(settled, 1);
    EXPECT_EQ(timers.size(), 1u);  // settled: asks for nothing more

    // Resumed and paused again before the timer fires: only the last pause's timer settles.
    sync.resume_context("demo");
    sync.pause_context("demo");
    ASSERT_EQ(timers.size(), 2u);
    sync.resume_context("demo");
    timers[1].second();  // stale: the context runs
    EXPECT_EQ(settled, 1);
    sync.pause_context("demo");
    ASSERT_EQ(timers.size(), 3u);
    timers[2].second();
    EXPECT_EQ(settled, 2);
}


// The manager's asynchronous paths on a monitor that blocks (as kernel
// contexts do): operations run on the context's thread, their ends come
// back through the main loop's queue, one context's operations run in
// order, other contexts' in parallel, and the manager answers meanwhile.
TEST(ManagerAsync, BlockingOperationsRunOffTheLoopInOrderPerContext) {
    Gate gate;
    LoopQueue loop;
    Manager manager{test_parts(
        [&](const std::string& name, const ContextSpec&) -> std::unique_ptr<Monitor> {
            return std::make_unique<BlockingMonitor>(name, gate);
        },
        loop.poster())};
    ManagerForms sync{manager, [&] { loop.turn_or_wait(); }};
    auto until = [&](const std::function<bool()>& pred) { return loop.until(pred); };
    sync.create_context("a", kDemoSpec);  // waited for, turning the loop
    sync.create_context("b", kDemoSpec);
    EXPECT_EQ(manager.state("a"), MonitorState::Running);

    gate.hold();
    std::vector<std::string> ends;
    manager.pause_context("a", [&](std::exception_ptr e) { ends.push_back(e ? "pause failed" : "pause a"); });
    manager.resume_context("a", [&](std::exception_ptr e) { ends.push_back(e ? "resume failed" : "resume a"); });
    ASSERT_TRUE(until([&] { return gate.waiting() == 1; }));  // a's pause, on a's worker
    EXPECT_TRUE(ends.empty());                                // nothing answered yet
    EXPECT_EQ(manager.list_contexts().size(), 2u);            // the manager still answers
    EXPECT_EQ(manager.state("a"), MonitorState::Running);     // from what it last knew

    // b's operation does not wait for a's.
    manager.pause_context("b", [&](std::exception_ptr e) { ends.push_back(e ? "pause failed" : "pause b"); });
    ASSERT_TRUE(until([&] { return gate.waiting() == 2; }));
    gate.release();
    ASSERT_TRUE(until([&] { return ends.size() == 3; }));
    EXPECT_EQ(manager.state("a"), MonitorState::Running);
    EXPECT_EQ(manager.state("b"), MonitorState::Paused);
    // a's two ran in the order asked, each ended once.
    std::vector<std::string> a_ops;
    for (const std::string& op : gate.log())
        if (op.rfind("a ", 0) == 0) a_ops.push_back(op);
    EXPECT_EQ(a_ops, (std::vector<std::string>{"a start", "a pause", "a resume"}));
    EXPECT_EQ(std::count(ends.begin(), ends.end(), "pause a"), 1);
    EXPECT_EQ(std::count(ends.begin(), ends.end(), "resume a"), 1);
    EXPECT_LT(std::find(ends.begin(), ends.end(), "pause a"), std::find(ends.begin(), ends.end(), "resume a"));
    sync.stop_all(false);
}

// A call that outlives its deadline: the runner gives the context's thread
// up rather than wait on it. The operation fails naming the call, the next
// one queued learns why, the context is failed, other contexts go on, and
// the thread, when it comes back, ends the monitor on its own.
TEST(ManagerAsync, AnOperationStuckPastItsDeadlineIsGivenUp) {
    Gate gate;
    std::atomic<int> monitors{0};
    struct Counted : BlockingMonitor {
        Counted(std::string name, Gate& gate, std::atomic<int>& n)
            : BlockingMonitor(std::move(name), gate, std::chrono::milliseconds(100)), n_(n) {
            ++n_;
        }
        ~Counted() override { --n_; }
        std::atomic<int>& n_;
    };
    LoopQueue loop;
    Manager manager{test_parts(
        [&](const std::string& name, const ContextSpec&) -> std::unique_ptr<Monitor> {
            return std::make_unique<Counted>(name, gate, monitors);
        },
        loop.poster())};
    ManagerForms sync{manager, [&] { loop.turn_or_wait(); }};
    auto until = [&](const std::function<bool()>& pred) { return loop.until(pred); };
    sync.create_context("a", kDemoSpec);
    sync.create_context("b", kDemoSpec);

    gate.hold();
    std::vector<std::string> ends;
    manager.pause_context("a", [&](std::exception_ptr e) { ends.push_back("pause: " + error_text(e)); });
    manager.resume_context("a", [&](std::exception_ptr e) { ends.push_back("resume: " + error_text(e)); });
    ASSERT_TRUE(until([&] { return ends.size() == 2; }));
    EXPECT_EQ(ends[0], "pause: a: pause did not return within 100 ms");
    EXPECT_EQ(ends[1], "resume: context failed: a: pause did not return within 100 ms");
    EXPECT_EQ(manager.state("a"), MonitorState::Failed);
    EXPECT_NE(manager.last_error("a").find("did not return within 100 ms"), std::string::npos)
        << manager.last_error("a");
    EXPECT_EQ(monitors.load(), 2);  // the stuck one still belongs to its thread

    // The other context's thread is its own: it is not held up by a's.
    gate.release();
    bool paused_b = false;
    manager.pause_context("b", [&](std::exception_ptr e) { paused_b = !e; });
    ASSERT_TRUE(until([&] { return paused_b; }));
    EXPECT_EQ(manager.state("b"), MonitorState::Paused);
    // a's thread came back from the gate: it ended its monitor and itself.
    ASSERT_TRUE(until([&] { return monitors.load() == 1; }));
    bool removed = false;
    manager.remove_context("a", [&](std::exception_ptr e) { removed = !e; });
    ASSERT_TRUE(until([&] { return removed; }));
    sync.stop_all(false);
}

// Waiting for an operation (start-up, tests) keeps the deadline too: the
// watchdog reports through the loop that finish_here turns.
TEST(ManagerAsync, AStuckCallFailsAWaitedForOperationAfterItsDeadline) {
    Gate gate;
    LoopQueue loop;
    Manager manager{test_parts(
        [&](const std::string& name, const ContextSpec&) -> std::unique_ptr<Monitor> {
            return std::make_unique<BlockingMonitor>(name, gate, std::chrono::milliseconds(100));
        },
        loop.poster())};
    ManagerForms sync{manager, [&] { loop.turn_or_wait(); }};
    sync.create_context("a", kDemoSpec);
    gate.hold();
    const auto t0 = std::chrono::steady_clock::now();
    try {
        sync.pause_context("a");
        ADD_FAILURE() << "returned";
    } catch (const DamondError& e) {
        EXPECT_EQ(std::string(e.what()), "a: pause did not return within 100 ms");
    }
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
    EXPECT_EQ(manager.state("a"), MonitorState::Failed);
    gate.release();
    // The thread left behind goes through the gate before the gate goes.
    for (int i = 0; i < 500 && gate.log().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(gate.log().size(), 2u);
}
