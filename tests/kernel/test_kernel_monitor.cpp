// The kernel backend's monitor on the emulated tree of each kernel profile.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "base/errors.hpp"
#include "damon_tree_model.hpp"
#include "kernel/guarded_tree.hpp"
#include "kernel/kernel_monitor.hpp"
#include "spec/spec_json.hpp"

using namespace damond;
using namespace damond::emu;

namespace {

const char* kSpec = R"({
  "ops": "paddr",
  "intervals": {"sample_us": 1000, "aggr_us": 20000, "update_us": 1000000},
  "targets": [{"regions": [{"start": 0, "end": 67108864}]}],
  "schemes": [{"action": "stat", "access_pattern": {"age": {"min": 3}},
               "watermarks": {"metric": "free_mem_rate", "interval_us": 5000, "high": 900, "mid": 800, "low": 10}}]
})";

struct Kernel {
    ManualClock clock;
    DamonTreeModel model;
    ModelTree raw{model};
    GuardedTree tree{raw};
    explicit Kernel(const std::string& profile) : model(profile_named(profile), clock) {
        // A foreign stopped kdamond 0 would block the pool; start empty.
        tree.grow_pool(0, 1);
    }
    KernelProbe probe() {
        // Features come from damond's own kdamond, once staged.
        raw.write("kdamonds/0/contexts/nr_contexts", "1");
        raw.write("kdamonds/0/contexts/0/schemes/nr_schemes", "1");
        raw.write("kdamonds/0/contexts/0/targets/nr_targets", "1");
        return probe_kernel(tree, FsSysfsTree("/nonexistent"), model.profile().version.to_string(), {0});
    }
    // Every staged (non-_emu) file and its value.
    std::map<std::string, std::string> files() {
        std::map<std::string, std::string> out;
        std::function<void(const std::string&)> walk = [&](const std::string& d) {
            for (const std::string& e : raw.list(d)) {
                const std::string p = d.empty() ? e : d + "/" + e;
                if (p == "_emu") continue;
                if (raw.is_dir(p))
                    walk(p);
                else if (raw.writable(p) && e != "state")
                    out[p] = raw.read(p);
            }
        };
        walk("");
        return out;
    }
    std::string log_since(size_t from) { return raw.read("_emu/log").substr(from); }
};

}  // namespace

TEST(KernelMonitor, NativePauseWritesOnlyThePauseFile) {
    Kernel k("7.2");
    const KernelProbe probe = k.probe();
    ASSERT_EQ(probe.pause_mode, PauseMode::Native);
    KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, probe);
    m.start();
    EXPECT_EQ(m.state(), MonitorState::Running);
    k.clock.advance(300000);
    const MonitorSnapshot running = m.snapshot();
    ASSERT_FALSE(running.targets.empty());
    EXPECT_FALSE(running.targets[0].empty());

    const auto before = k.files();
    const size_t mark = k.raw.read("_emu/log").size();
    m.pause();
    EXPECT_EQ(m.state(), MonitorState::Paused);
    // Besides reading back the regions to answer Snapshot() while paused,
    // the pause file and a commit are all that is written.
    EXPECT_EQ(k.log_since(mark),
              "kdamonds/0/state update_schemes_stats -> ok\n"
              "kdamonds/0/state update_schemes_tried_regions -> ok\n"
              "kdamonds/0/state update_schemes_stats -> ok\n"
              "kdamonds/0/contexts/0/pause Y -> ok\n"
              "kdamonds/0/state commit -> ok\n")
        << k.log_since(mark);
    const MonitorSnapshot paused = m.snapshot();
    k.clock.advance(2000000);
    EXPECT_EQ(m.snapshot(), paused);  // answered from the snapshot taken at pause
    m.resume();
    EXPECT_EQ(m.state(), MonitorState::Running);
    EXPECT_EQ(k.files(), before);
    m.stop();
    EXPECT_EQ(k.raw.read("kdamonds/0/state"), "off");
}

// The kernel counts no aggregations; the read-back scheme's sz_tried grows by
// the monitored size at each of them, so snapshots can say how many passed.
TEST(KernelMonitor, SnapshotsCountAggregationsAndNoneWhilePaused) {
    for (const char* profile : {"7.2", "6.18"}) {
        SCOPED_TRACE(profile);
        Kernel k(profile);
        KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, k.probe());
        m.start();
        k.clock.advance(300000);
        const uint64_t first = m.snapshot().nr_aggregations;
        EXPECT_GE(first, 13u);
        EXPECT_LE(first, 16u);
        k.clock.advance(200000);  // 10 aggregations of 20 ms
        const uint64_t running = m.snapshot().nr_aggregations;
        EXPECT_EQ(running - first, 10u);
        m.pause();
        k.clock.advance(1000000);  // 50 if it were running
        m.resume();
        k.clock.advance(100000);
        const uint64_t resumed = m.snapshot().nr_aggregations;
        EXPECT_GE(resumed - running, 5u);
        EXPECT_LE(resumed - running, 6u);  // the read-back at the pause may land one later
        // A commit that adds a scheme moves the read-back scheme's index; the
        // count goes on from there and never counts another scheme's stats.
        ContextSpec more = spec_from_json_text(kSpec);
        more.schemes.push_back(more.schemes[0]);
        m.commit(more);
        k.clock.advance(100000);
        const uint64_t after_commit = m.snapshot().nr_aggregations;
        EXPECT_EQ(after_commit, resumed);  // rebased, not counted
        k.clock.advance(100000);
        EXPECT_EQ(m.snapshot().nr_aggregations - after_commit, 5u);
    }
}

TEST(KernelMonitor, WatermarkParkingRestoresTheWatermarksExactly) {
    Kernel k("6.18");
    const KernelProbe probe = k.probe();
    ASSERT_EQ(probe.pause_mode, PauseMode::Watermarks);
    KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, probe);
    m.start();
    k.clock.advance(200000);
    const auto before = k.files();
    m.pause();
    EXPECT_EQ(k.raw.read("kdamonds/0/contexts/0/schemes/0/watermarks/metric"), "free_mem_rate");
    EXPECT_EQ(k.raw.read("kdamonds/0/contexts/0/schemes/0/watermarks/high"), "0");
    EXPECT_EQ(k.raw.read("kdamonds/0/contexts/0/schemes/1/watermarks/high"), "0");  // damond's own scheme parks too
    // Parked: the kernel samples nothing.
    k.raw.write("kdamonds/0/state", "update_schemes_stats");
    const std::string tried = k.raw.read("kdamonds/0/contexts/0/schemes/1/stats/nr_tried");
    k.clock.advance(1000000);
    k.raw.write("kdamonds/0/state", "update_schemes_stats");
    EXPECT_EQ(k.raw.read("kdamonds/0/contexts/0/schemes/1/stats/nr_tried"), tried);
    m.resume();
    EXPECT_EQ(k.files(), before);  // watermarks restored
    EXPECT_EQ(m.state(), MonitorState::Running);
}

TEST(KernelMonitor, CheckpointKeepsTheBoundariesAndNeverParks) {
    Kernel k("6.12");
    const KernelProbe probe = k.probe();
    ASSERT_EQ(probe.pause_mode, PauseMode::Checkpoint);
    KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, probe);
    m.start();
    k.clock.advance(500000);
    const size_t mark = k.raw.read("_emu/log").size();
    m.pause();
    EXPECT_EQ(m.state(), MonitorState::Paused);
    EXPECT_EQ(k.raw.read("kdamonds/0/state"), "off");
    const std::string during = k.log_since(mark);
    EXPECT_EQ(during.find("watermarks"), std::string::npos) << during;  // never parked
    EXPECT_NE(during.find("kdamonds/0/state off -> ok"), std::string::npos) << during;
    const MonitorSnapshot at_pause = m.snapshot();
    ASSERT_FALSE(at_pause.targets[0].empty());
    k.clock.advance(2000000);
    EXPECT_EQ(m.snapshot(), at_pause);

    m.resume();
    EXPECT_EQ(m.state(), MonitorState::Running);
    // Started again with the checkpoint's boundaries as its initial regions.
    const std::string t = "kdamonds/0/contexts/0/targets/0/regions/";
    ASSERT_EQ(k.raw.read(t + "nr_regions"), std::to_string(at_pause.targets[0].size()));
    for (size_t i = 0; i < at_pause.targets[0].size(); ++i) {
        EXPECT_EQ(k.raw.read(t + std::to_string(i) + "/start"), std::to_string(at_pause.targets[0][i].start));
        EXPECT_EQ(k.raw.read(t + std::to_string(i) + "/end"), std::to_string(at_pause.targets[0][i].end));
    }
    // What a checkpoint loses: the ages start over.
    uint64_t old_age = 0;
    for (const SnapshotRegion& r : at_pause.targets[0]) old_age = std::max<uint64_t>(old_age, r.age);
    EXPECT_GT(old_age, 3u);
    k.clock.advance(50000);
    const MonitorSnapshot after = m.snapshot();
    ASSERT_FALSE(after.targets.empty());
    for (const SnapshotRegion& r : after.targets[0]) EXPECT_LE(r.age, 3u);
}

// Found on the real 6.12 kernel: a context created paused (an app's
// foreground one) must stay off until it resumes, or the resume's "on"
// meets a running kdamond and fails with EBUSY.
TEST(KernelMonitor, StartedPausedWhereAPauseIsACheckpointStaysOffUntilResumed) {
    Kernel k("6.12");
    const KernelProbe probe = k.probe();
    ASSERT_EQ(probe.pause_mode, PauseMode::Checkpoint);
    ContextSpec spec = spec_from_json_text(kSpec);
    spec.pause = true;
    KernelMonitor m(spec, k.tree, 0, probe);
    m.start();
    EXPECT_EQ(m.state(), MonitorState::Paused);
    EXPECT_EQ(k.raw.read("kdamonds/0/state"), "off");
    m.resume();
    EXPECT_EQ(m.state(), MonitorState::Running);
    EXPECT_EQ(k.raw.read("kdamonds/0/state"), "on");
    m.pause();
    EXPECT_EQ(k.raw.read("kdamonds/0/state"), "off");
}

TEST(KernelMonitor, CheckpointNeedsOneTarget) {
    Kernel k("6.12");
    ContextSpec two = spec_from_json_text(kSpec);
    // paddr takes one target; two vaddr targets on this very process.
    two.ops = Ops::Vaddr;
    two.targets = {Target{getpid(), {}, {}}, Target{getpid(), {}, {}}};
    KernelMonitor m(two, k.tree, 0, k.probe());
    m.start();
    EXPECT_THROW(m.pause(), DamondError);
    EXPECT_EQ(m.state(), MonitorState::Running);
}

TEST(KernelMonitor, ARefusedCommitLeavesTheLastGoodSpecStaged) {
    Kernel k("7.2");
    KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, k.probe());
    m.start();
    const auto before = k.files();
    k.raw.write("_emu/fail", "0/state EINVAL");
    ContextSpec next = spec_from_json_text(kSpec);
    next.intervals.aggr_us = 40000;
    try {
        m.commit(next);
        FAIL();
    } catch (const DamondError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidSpec);
    }
    EXPECT_EQ(k.files(), before);
    EXPECT_EQ(m.state(), MonitorState::Running);

    // EIO on a staged file is reported, and nothing is left half-written.
    k.raw.write("_emu/fail", "intervals/aggr_us EIO");
    try {
        m.commit(next);
        FAIL();
    } catch (const DamondError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Failed);
        EXPECT_NE(std::string(e.what()).find("Input/output error"), std::string::npos) << e.what();
    }
    EXPECT_EQ(k.files(), before);

    // EBUSY is retried; a good commit then lands.
    k.raw.write("_emu/fail", "0/state EBUSY 2");
    m.commit(next);
    EXPECT_EQ(k.raw.read("kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us"), "40000");
}

// A commit the kernel dies on: 6.15+ say so (and end the kdamond when it
// fails inside damon_commit_ctx), 6.14 and older end it and say nothing.
// Either way the context goes on with the last good spec in a new kdamond.
TEST(KernelMonitor, AKdamondEndedByACommitStartsAgainWithTheLastGoodSpec) {
    for (const char* profile : {"6.18", "6.12"}) {
        SCOPED_TRACE(profile);
        Kernel k(profile);
        KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, k.probe());
        m.start();
        k.clock.advance(100000);
        const uint64_t counted = m.snapshot().nr_aggregations;
        const std::string pid = k.raw.read("kdamonds/0/pid");
        const auto good = k.files();
        ContextSpec bad = spec_from_json_text(kSpec);
        if (std::string(profile) == "6.18")
            bad.schemes[0].quotas.goals.push_back(
                QuotaGoal{GoalMetric::UserInput, 0, 0, 0, ""});  // 0 kills it inside commit
        else
            k.raw.write("_emu/refuse_commit", "1");
        bad.intervals.aggr_us = 40000;
        try {
            m.commit(bad);
            FAIL() << "the commit was taken";
        } catch (const DamondError& e) {
            EXPECT_EQ(e.kind(), ErrorKind::InvalidSpec);
            EXPECT_NE(std::string(e.what()).find("started again"), std::string::npos) << e.what();
        }
        EXPECT_EQ(m.state(), MonitorState::Running);
        EXPECT_EQ(k.raw.read("kdamonds/0/state"), "on");
        EXPECT_NE(k.raw.read("kdamonds/0/pid"), pid);
        EXPECT_EQ(k.files(), good);  // the last good spec, nothing of the refused one
        // The new kdamond's aggregations are counted from its zero.
        k.clock.advance(200000);
        EXPECT_GE(m.snapshot().nr_aggregations - counted, 9u);
        EXPECT_LE(m.snapshot().nr_aggregations - counted, 11u);
        // And it is driven as before.
        ContextSpec next = spec_from_json_text(kSpec);
        next.intervals.aggr_us = 30000;
        m.commit(next);
        EXPECT_EQ(k.raw.read("kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us"), "30000");
        EXPECT_EQ(m.state(), MonitorState::Running);
    }
}

// A restarted damond adopts its running kdamond by an online commit; where
// the kernel ends the kdamond on that commit instead (6.14 and older, when
// it cannot apply it), there is nothing to adopt and it starts anew.
TEST(KernelMonitor, AKdamondEndedByTheAdoptingCommitStartsAnew) {
    for (const bool refused : {false, true}) {
        SCOPED_TRACE(refused ? "refused" : "taken");
        Kernel k("6.12");
        const KernelProbe probe = k.probe();
        {
            KernelMonitor before(spec_from_json_text(kSpec), k.tree, 0, probe);
            before.start();
            k.clock.advance(100000);
            before.stop_for_restart();  // left running for the next damond
        }
        const std::string pid = k.raw.read("kdamonds/0/pid");
        ASSERT_EQ(k.raw.read("kdamonds/0/state"), "on");
        if (refused) k.raw.write("_emu/refuse_commit", "1");
        KernelMonitor after(spec_from_json_text(kSpec), k.tree, 0, probe, std::chrono::seconds(10), {}, std::stoi(pid));
        after.start();
        EXPECT_EQ(after.state(), MonitorState::Running);
        EXPECT_EQ(k.raw.read("kdamonds/0/state"), "on");
        if (refused)
            EXPECT_NE(k.raw.read("kdamonds/0/pid"), pid);
        else
            EXPECT_EQ(k.raw.read("kdamonds/0/pid"), pid);  // adopted
        after.pause();
        after.resume();
        EXPECT_EQ(after.state(), MonitorState::Running);
    }
}

TEST(KernelMonitor, AVaddrContextStopsWhenItsProcessExits) {
    Kernel k("7.2");
    const pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    ContextSpec spec = spec_from_json_text(kSpec);
    spec.ops = Ops::Vaddr;
    spec.targets = {Target{child, {}, {}}};
    KernelMonitor m(spec, k.tree, 0, k.probe());
    std::atomic<int> events{0};
    m.set_event_handler([&] { events++; });
    m.start();
    EXPECT_EQ(m.state(), MonitorState::Running);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    for (int i = 0; i < 200 && events == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(events, 1);
    EXPECT_EQ(m.state(), MonitorState::Stopped);
    EXPECT_EQ(m.error(), "target process " + std::to_string(child) + " exited");
}

TEST(KernelMonitor, AKdamondRestartedBehindItsBackFailsTheContext) {
    Kernel k("7.2");
    KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, k.probe());
    m.start();
    // Someone else turns it off and on again (the raw tree, not damond's guard).
    k.raw.write("kdamonds/0/state", "off");
    k.raw.write("kdamonds/0/state", "on");
    ContextSpec next = spec_from_json_text(kSpec);
    next.intervals.aggr_us = 30000;
    m.commit(next);
    EXPECT_EQ(m.state(), MonitorState::Failed);
    EXPECT_NE(m.error().find("something else restarted it"), std::string::npos) << m.error();
}

namespace {

// What kdamond 0 keeps inside (the emulator's _emu/live/0): its intervals
// on the first line, then every region with its counts and age.
std::string live(Kernel& k) { return k.raw.read("_emu/live/0"); }
std::string live_regions(Kernel& k) {
    const std::string all = live(k);
    return all.substr(all.find('\n') + 1);
}

DeepPause deep_after(int ms) {
    DeepPause d;
    d.after = std::chrono::milliseconds(ms);
    d.interval_us = 1000000;
    return d;
}

// A tree that stops writing once cut: a damond that crashed writes nothing more.
class CuttableTree : public SysfsTree {
public:
    explicit CuttableTree(SysfsTree& inner) : inner_(inner) {}
    bool cut = false;
    bool exists(const std::string& p) const override { return inner_.exists(p); }
    bool is_dir(const std::string& p) const override { return inner_.is_dir(p); }
    bool writable(const std::string& p) const override { return inner_.writable(p); }
    std::string read(const std::string& p) const override { return inner_.read(p); }
    std::vector<std::string> list(const std::string& d) const override { return inner_.list(d); }
    void write(const std::string& p, const std::string& v) override {
        if (cut) throw SysfsError(EIO, p, "damond is gone:");
        inner_.write(p, v);
    }

private:
    SysfsTree& inner_;
};

}  // namespace

// A deep pause sleeps one second per loop, and everything the kdamond had
// learned is there when it resumes: the regions, their access counts and
// ages exactly, and the files as they were.
TEST(KernelMonitor, DeepPauseSleepsLongerAndKeepsEverythingExactly) {
    for (const char* profile : {"7.2", "6.18"}) {
        SCOPED_TRACE(profile);
        Kernel k(profile);
        KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, k.probe(), std::chrono::seconds(10), {}, -1, {},
                        deep_after(10000));
        m.start();
        k.clock.advance(300000);
        const auto files = k.files();
        EXPECT_EQ(m.settle_after_ms(), 0u);  // running: nothing to settle
        m.pause();
        const std::string at_pause = live(k);
        EXPECT_EQ(m.settle_after_ms(), 10000u);
        m.settle();
        EXPECT_TRUE(m.deeply_paused());
        EXPECT_EQ(m.settle_after_ms(), 0u);
        EXPECT_EQ(m.state(), MonitorState::Paused);
        const std::string iv = "kdamonds/0/contexts/0/monitoring_attrs/intervals/";
        if (std::string(profile) == "7.2") {
            EXPECT_EQ(k.raw.read(iv + "sample_us"), "1000000");
            EXPECT_EQ(k.raw.read(iv + "aggr_us"), "1000000");
            EXPECT_EQ(k.raw.read("kdamonds/0/contexts/0/pause"), "Y");
            EXPECT_EQ(live(k).substr(0, live(k).find('\n')), "sample_us 1000000 aggr_us 1000000");
        } else {
            for (const char* s : {"0", "1"})
                EXPECT_EQ(k.raw.read(std::string("kdamonds/0/contexts/0/schemes/") + s + "/watermarks/interval_us"),
                          "1000000");
        }
        EXPECT_EQ(live_regions(k), at_pause.substr(at_pause.find('\n') + 1));
        k.clock.advance(5000000);
        m.resume();
        EXPECT_FALSE(m.deeply_paused());
        EXPECT_EQ(m.state(), MonitorState::Running);
        EXPECT_EQ(live(k), at_pause);  // intervals, regions, counts and ages
        EXPECT_EQ(k.files(), files);
    }
}

// A context likely to resume soon settles into the lighter sleep, and moves
// between the two depths without losing anything: the live intervals kept
// at the first deepening come back on resume, regions, counts and ages exact.
TEST(KernelMonitor, AQuickResumeSleepsLighterAndMovesBetweenDepthsExactly) {
    for (const char* profile : {"7.2", "6.18"}) {
        SCOPED_TRACE(profile);
        Kernel k(profile);
        DeepPause deep = deep_after(10000);
        deep.quick_interval_us = 150000;
        KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, k.probe(), std::chrono::seconds(10), {}, -1, {}, deep);
        m.start();
        k.clock.advance(300000);
        const auto files = k.files();
        m.pause();
        const std::string at_pause = live(k);
        const bool native = std::string(profile) == "7.2";
        auto sleeps = [&] {
            return native ? k.raw.read("kdamonds/0/contexts/0/monitoring_attrs/intervals/sample_us")
                          : k.raw.read("kdamonds/0/contexts/0/schemes/0/watermarks/interval_us");
        };
        m.set_quick_resume(true);
        EXPECT_EQ(m.settle_after_ms(), 10000u);
        m.settle();
        EXPECT_EQ(sleeps(), "150000");
        EXPECT_EQ(m.settle_after_ms(), 0u);
        m.set_quick_resume(false);  // pushed out of the recents
        EXPECT_EQ(m.settle_after_ms(), 10000u);
        m.settle();
        EXPECT_TRUE(m.deeply_paused());
        EXPECT_EQ(sleeps(), "1000000");
        EXPECT_EQ(m.settle_after_ms(), 0u);
        m.set_quick_resume(true);  // back in them
        m.settle();
        EXPECT_EQ(sleeps(), "150000");
        EXPECT_EQ(live_regions(k), at_pause.substr(at_pause.find('\n') + 1));
        k.clock.advance(5000000);
        m.resume();
        EXPECT_FALSE(m.deeply_paused());
        EXPECT_EQ(m.settle_after_ms(), 0u);
        EXPECT_EQ(live(k), at_pause);  // intervals, regions, counts and ages
        EXPECT_EQ(k.files(), files);
    }
}

// What the deep pause avoids: going to long intervals in one commit makes
// the kernel rescale every age (here by 20 ms / 1 s), and back does not undo it.
TEST(KernelMonitor, LongIntervalsInOneCommitWouldLoseTheAges) {
    Kernel k("7.2");
    KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, k.probe());
    m.start();
    k.clock.advance(300000);
    m.pause();
    const std::string at_pause = live_regions(k);
    ContextSpec slow = spec_from_json_text(kSpec);
    slow.pause = true;
    slow.intervals.sample_us = slow.intervals.aggr_us = 1000000;
    m.commit(slow);
    ContextSpec back = spec_from_json_text(kSpec);
    back.pause = true;
    m.commit(back);
    EXPECT_NE(live_regions(k), at_pause);
}

// A commit while deeply paused leaves the deep pause first: the spec it
// stages is the one the kdamond runs with, and the pause deepens again later.
TEST(KernelMonitor, ACommitWhileDeeplyPausedLeavesTheDeepPause) {
    Kernel k("7.2");
    KernelMonitor m(spec_from_json_text(kSpec), k.tree, 0, k.probe(), std::chrono::seconds(10), {}, -1, {},
                    deep_after(10000));
    m.start();
    k.clock.advance(300000);
    m.pause();
    m.settle();
    ContextSpec next = spec_from_json_text(kSpec);
    next.pause = true;
    next.intervals.aggr_us = 40000;
    m.commit(next);
    EXPECT_FALSE(m.deeply_paused());
    EXPECT_EQ(k.raw.read("kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us"), "40000");
    EXPECT_EQ(live(k).substr(0, live(k).find('\n')), "sample_us 1000 aggr_us 40000");
    EXPECT_EQ(m.settle_after_ms(), 10000u);
}

// damond killed while a context sleeps deeply: the next one adopts the
// kdamond through zero intervals, so the ages survive the crash too.
TEST(KernelMonitor, AdoptingADeeplyPausedKdamondKeepsItsAges) {
    Kernel k("7.2");
    const KernelProbe probe = k.probe();
    ContextSpec spec = spec_from_json_text(kSpec);
    std::string at_pause;
    {
        CuttableTree crashing(k.tree);
        KernelMonitor before(spec, crashing, 0, probe, std::chrono::seconds(10), {}, -1, {}, deep_after(10000));
        before.start();
        k.clock.advance(300000);
        before.pause();
        at_pause = live_regions(k);
        before.settle();
        crashing.cut = true;  // nothing more from this damond
    }
    ASSERT_EQ(k.raw.read("kdamonds/0/state"), "on");
    spec.pause = true;
    KernelMonitor after(spec, k.tree, 0, probe, std::chrono::seconds(10), {}, std::stoi(k.raw.read("kdamonds/0/pid")),
                        {}, deep_after(10000));
    after.start();
    EXPECT_TRUE(after.adopted());
    EXPECT_EQ(after.state(), MonitorState::Paused);
    EXPECT_EQ(live(k).substr(0, live(k).find('\n')), "sample_us 1000 aggr_us 20000");
    EXPECT_EQ(live_regions(k), at_pause);
}

// The size quota in force, tuned by a goal, is read with the regions (the
// kernel fills quotas/effective_bytes only when asked).
TEST(KernelMonitor, ASnapshotCarriesTheEffectiveQuotaAGoalTuned) {
    Kernel k("7.2");
    KernelMonitor m(spec_from_json_text(R"({
  "ops": "paddr",
  "intervals": {"sample_us": 1000, "aggr_us": 20000, "update_us": 1000000},
  "targets": [{"regions": [{"start": 0, "end": 67108864}]}],
  "schemes": [{"action": "stat", "access_pattern": {"age": {"min": 3}},
               "quotas": {"ms": 0, "bytes": 1048576, "reset_interval_ms": 100,
                          "goals": [{"target_metric": "user_input", "target_value": 10000, "current_value": 5000}]}}]
})"),
                    k.tree, 0, k.probe());
    m.start();
    k.clock.advance(2000000);
    const MonitorSnapshot snap = m.snapshot();
    ASSERT_FALSE(snap.schemes.empty());
    // Under the goal (5000 of 10000) the tuner grows the quota from its minimum.
    EXPECT_GT(snap.schemes[0].stats.effective_quota_bytes, 0u);
    EXPECT_LE(snap.schemes[0].stats.effective_quota_bytes, 1048576u);
    EXPECT_EQ(snap.schemes[0].stats.effective_quota_bytes,
              std::stoull(k.raw.read("kdamonds/0/contexts/0/schemes/0/quotas/effective_bytes")));
}

// A damond that comes back adopts a tuned kdamond with the intervals the
// tuner made, not the spec's (a commit sets them from the files).
TEST(KernelMonitor, AdoptingATunedKdamondKeepsTheTunedIntervals) {
    Kernel k("7.2");
    const KernelProbe probe = k.probe();
    const ContextSpec spec = spec_from_json_text(R"({
  "ops": "paddr",
  "intervals": {"sample_us": 1000, "aggr_us": 20000, "update_us": 1000000,
                "intervals_goal": {"access_bp": 9000, "aggrs": 2, "min_sample_us": 1000, "max_sample_us": 100000}},
  "targets": [{"regions": [{"start": 0, "end": 67108864}]}]
})");
    std::string tuned;
    {
        KernelMonitor before(spec, k.tree, 0, probe);
        before.start();
        k.clock.advance(3000000);
        tuned = live(k).substr(0, live(k).find('\n'));
        ASSERT_NE(tuned, "sample_us 1000 aggr_us 20000") << "the tuner did not move";
        before.stop_for_restart();
    }
    ASSERT_EQ(k.raw.read("kdamonds/0/state"), "on");
    KernelMonitor after(spec, k.tree, 0, probe, std::chrono::seconds(10), {}, std::stoi(k.raw.read("kdamonds/0/pid")));
    after.start();
    EXPECT_TRUE(after.adopted());
    EXPECT_EQ(live(k).substr(0, live(k).find('\n')), tuned);
}
