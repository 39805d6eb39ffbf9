#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "base/errors.hpp"
#include "monitor/scheduler_thread.hpp"
#include "monitor_fixture.hpp"

using namespace damond;
using namespace damond::testing;

namespace {

// Size-weighted mean age of the idle part of kDemoSpec's target: merges
// average ages by size and splits copy them, so this grows by about one per
// aggregation however the regions change.
double idle_mean_age(const MonitorSnapshot& s) {
    double sum = 0, size = 0;
    for (const auto& r : s.targets.at(0)) {
        const uint64_t lo = std::max<uint64_t>(r.start, 4 << 20);
        if (lo >= r.end) continue;
        sum += double(r.age) * double(r.end - lo);
        size += double(r.end - lo);
    }
    return sum / size;
}

}  // namespace

TEST(InProcessMonitor, SamplesOnTheScheduler) {
    VirtualTime vt;
    InProcessMonitor m(spec_from_json_text(kDemoSpec), vt.executor, vt.metrics);
    m.start();
    EXPECT_EQ(m.state(), MonitorState::Running);
    vt.advance(100000);  // 100 ms = 100 samples = 5 aggregations
    EXPECT_EQ(m.stats().nr_samples, 100u);
    EXPECT_EQ(m.stats().nr_aggregations, 5u);
}

TEST(InProcessMonitor, PauseKeepsStateBitIdenticalAndHoldsNoTimer) {
    VirtualTime vt;
    InProcessMonitor m(spec_from_json_text(kDemoSpec), vt.executor, vt.metrics);
    m.start();
    vt.advance(250500);
    m.pause();
    EXPECT_EQ(m.state(), MonitorState::Paused);
    EXPECT_EQ(vt.scheduler().pending(), 0u);  // zero wake-ups while paused
    const DamonContext before = m.core_context();
    const MonitorSnapshot snap = m.snapshot();
    vt.advance(5000000);
    EXPECT_EQ(m.core_context(), before);
    EXPECT_EQ(m.snapshot(), snap);
    m.pause();  // idempotent
    EXPECT_EQ(m.core_context(), before);
}

TEST(InProcessMonitor, ResumeContinuesFromTheKeptState) {
    VirtualTime vt;
    InProcessMonitor m(spec_from_json_text(kDemoSpec), vt.executor, vt.metrics);
    m.start();
    vt.advance(400000);
    m.pause();
    const MonitorSnapshot at_pause = m.snapshot();
    vt.advance(1000000);
    m.resume();
    m.resume();  // idempotent: still one timer
    EXPECT_EQ(vt.scheduler().pending(), 1u);
    vt.advance(200000);
    const MonitorSnapshot later = m.snapshot();
    EXPECT_EQ(later.nr_aggregations, at_pause.nr_aggregations + 10);
    EXPECT_GT(idle_mean_age(later), idle_mean_age(at_pause) + 8);
}

TEST(InProcessMonitor, StartsPausedWhenTheSpecSaysSo) {
    VirtualTime vt;
    ContextSpec spec = spec_from_json_text(kDemoSpec);
    spec.pause = true;
    InProcessMonitor m(spec, vt.executor, vt.metrics);
    m.start();
    EXPECT_EQ(m.state(), MonitorState::Paused);
    vt.advance(100000);
    EXPECT_EQ(m.stats().nr_samples, 0u);
}

TEST(InProcessMonitor, CommitKeepsRegionsAndAgesAndCanPause) {
    VirtualTime vt;
    const ContextSpec spec = spec_from_json_text(kDemoSpec);
    InProcessMonitor m(spec, vt.executor, vt.metrics);
    m.start();
    vt.advance(300000);
    m.pause();
    const DamonContext before = m.core_context();

    ContextSpec same = spec;
    same.pause = true;
    m.commit(same);
    EXPECT_EQ(m.core_context(), before);
    EXPECT_EQ(m.state(), MonitorState::Paused);

    ContextSpec slower = same;
    slower.intervals.aggr_us = 40000;  // ages halve, regions stay
    m.commit(slower);
    ASSERT_EQ(m.core_context().targets[0].regions.size(), before.targets[0].regions.size());
    for (size_t i = 0; i < before.targets[0].regions.size(); ++i) {
        EXPECT_EQ(m.core_context().targets[0].regions[i].start, before.targets[0].regions[i].start);
        EXPECT_EQ(m.core_context().targets[0].regions[i].age, before.targets[0].regions[i].age / 2);
    }

    slower.pause = false;
    m.commit(slower);
    EXPECT_EQ(m.state(), MonitorState::Running);
}

TEST(InProcessMonitor, UnsupportedCommitChangesNothing) {
    VirtualTime vt;
    const ContextSpec spec = spec_from_json_text(kDemoSpec);
    InProcessMonitor m(spec, vt.executor, vt.metrics);
    m.start();
    vt.advance(100000);
    m.pause();
    const DamonContext before = m.core_context();
    ContextSpec with_scheme = spec;
    Scheme lru;
    lru.action = Action::LruPrio;  // kernel-only
    with_scheme.schemes.push_back(lru);
    try {
        m.commit(with_scheme);
        FAIL();
    } catch (const DamondError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotSupported);
        EXPECT_NE(std::string(e.what()).find("schemes[0].action: 'lru_prio'"), std::string::npos) << e.what();
    }
    EXPECT_EQ(m.core_context(), before);
    EXPECT_EQ(m.state(), MonitorState::Paused);
}

TEST(InProcessMonitor, RefusesKernelOps) {
    VirtualTime vt;
    ContextSpec spec = spec_from_json_text(R"({"ops": "paddr"})");
    try {
        InProcessMonitor m(spec, vt.executor, vt.metrics);
        FAIL();
    } catch (const DamondError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotSupported);
        EXPECT_NE(std::string(e.what()).find("paddr"), std::string::npos);
    }
}

TEST(InProcessMonitor, PauseAndResumeDoNotWaitForTheSchedulerYetEveryReadSeesThem) {
    MonotonicClock clock;
    SchedulerThread thread(clock);
    NoSystemMetrics metrics;
    InProcessMonitor m(spec_from_json_text(kDemoSpec), thread, metrics);
    m.start();
    std::promise<void> go;
    std::shared_future<void> gate = go.get_future().share();
    thread.post([gate] { gate.wait(); });  // the scheduler is busy: a waiting pause would hang here
    m.pause();
    EXPECT_EQ(m.state(), MonitorState::Paused);  // what was asked, at once
    m.resume();
    m.pause();
    EXPECT_EQ(m.state(), MonitorState::Paused);
    go.set_value();
    // A read goes through the same queue: it sees the last pause applied.
    const MonitorSnapshot at_pause = m.snapshot();
    size_t timers = 1;
    thread.run_sync([&] { timers = thread.scheduler().pending(); });
    EXPECT_EQ(timers, 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(m.snapshot().nr_samples, at_pause.nr_samples);
    m.resume();
    for (int i = 0; i < 200 && m.snapshot().nr_samples == at_pause.nr_samples; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_GT(m.snapshot().nr_samples, at_pause.nr_samples);
    EXPECT_EQ(m.state(), MonitorState::Running);
}
