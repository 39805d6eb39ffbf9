// The in-process core watching real processes through /proc, and acting on
// them through process_madvise.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "base/errors.hpp"
#include "monitor/context_figures.hpp"
#include "monitor/inprocess_monitor.hpp"
#include "monitor/scheduler_thread.hpp"
#include "spec/spec_json.hpp"
#include "workload_process.hpp"

using namespace damond;
using namespace damond::testing;
using nlohmann::json;

namespace {

template <typename Pred>
bool wait_until(Pred pred, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

// Size-weighted mean of last_nr_accesses over `range`.
double mean_accesses(const MonitorSnapshot& snap, AddrRange range) {
    double sum = 0, size = 0;
    for (const auto& t : snap.targets)
        for (const SnapshotRegion& r : t) {
            const uint64_t s = std::max(r.start, range.start), e = std::min(r.end, range.end);
            if (s >= e) continue;
            sum += double(r.last_nr_accesses) * double(e - s);
            size += double(e - s);
        }
    return size ? sum / size : -1;
}

json refs_spec(const WorkloadProcess& w, std::vector<AddrRange> ranges) {
    json regions = json::array();
    for (const AddrRange& r : ranges) regions.push_back({{"start", r.start}, {"end", r.end}});
    return {{"ops", "refs"},
            {"intervals", {{"sample_us", 10000}, {"aggr_us", 100000}, {"update_us", 1000000}}},
            {"nr_regions", {{"min", 4}, {"max", 40}}},
            {"targets", {{{"pid_target", w.pid()}, {"regions", regions}}}}};
}

struct ProcessSources : ::testing::Test {
    MonotonicClock clock;
    SchedulerThread thread{clock};
    NoSystemMetrics metrics;
};

}  // namespace

TEST_F(ProcessSources, RefsShowsTheTouchedMappingHotAndTheOtherCold) {
    WorkloadProcess w({"--hot-mib", "8", "--cold-mib", "8", "--period-ms", "2"});
    // Both areas, in address order.
    std::vector<AddrRange> areas{w.area("hot"), w.area("cold")};
    std::sort(areas.begin(), areas.end(), [](auto& a, auto& b) { return a.start < b.start; });
    InProcessMonitor m(spec_from_json(refs_spec(w, areas)), thread, metrics);
    EXPECT_EQ(m.access_source(), "refs");
    m.start();
    ASSERT_TRUE(wait_until([&] { return m.snapshot().nr_aggregations >= 5; }, 10000));
    // Averaged over five windows: the hot share seen per mapping varies with
    // how the target gets the CPU, the cold one is exactly zero.
    double hot = 0, cold = 0;
    for (uint64_t seen = m.snapshot().nr_aggregations, n = 0; n < 5;) {
        const MonitorSnapshot snap = m.snapshot();
        if (snap.nr_aggregations == seen) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        seen = snap.nr_aggregations;
        hot += mean_accesses(snap, w.area("hot")) / 5;
        cold += mean_accesses(snap, w.area("cold")) / 5;
        ++n;
    }
    EXPECT_GT(hot, 2.0) << "of 10 samples per window";
    EXPECT_LT(cold, 0.5);
}

TEST_F(ProcessSources, VaddrFindsTheAddressSpaceItself) {
    WorkloadProcess w({"--hot-mib", "4", "--cold-mib", "4"});
    json spec = {{"ops", "vaddr"},
                 {"intervals", {{"sample_us", 10000}, {"aggr_us", 100000}}},
                 {"targets", {{{"pid_target", w.pid()}}}}};
    InProcessMonitor m(spec_from_json(spec), thread, metrics);
    EXPECT_FALSE(m.access_source_reason().empty());
    m.start();
    const MonitorSnapshot snap = m.snapshot();
    ASSERT_EQ(snap.targets.size(), 1u);
    // The three regions cover both areas.
    for (const AddrRange& a : {w.area("hot"), w.area("cold")}) {
        bool covered = false;
        for (const SnapshotRegion& r : snap.targets[0]) covered |= r.start <= a.start && a.end <= r.end + 0;
        uint64_t bytes = 0;
        for (const SnapshotRegion& r : snap.targets[0])
            bytes += std::min(r.end, a.end) > std::max(r.start, a.start)
                         ? std::min(r.end, a.end) - std::max(r.start, a.start)
                         : 0;
        EXPECT_EQ(bytes, a.end - a.start);
        (void)covered;
    }
    EXPECT_GE(snap.targets[0].size(), 10u);  // split to nr_regions.min
}

TEST_F(ProcessSources, VaddrFollowsTheAddressSpaceEveryUpdateInterval) {
    WorkloadProcess w({"--hot-mib", "4", "--cold-mib", "4", "--grow-after-ms", "300"});
    json spec = {{"ops", "refs"},
                 {"intervals", {{"sample_us", 10000}, {"aggr_us", 50000}, {"update_us", 200000}}},
                 {"targets", {{{"pid_target", w.pid()}}}}};
    InProcessMonitor m(spec_from_json(spec), thread, metrics);
    m.start();
    const uint64_t grown = 0x200000000000ULL;
    auto covers_grown = [&] {
        const MonitorSnapshot snap = m.snapshot();
        uint64_t covered = 0;
        for (const SnapshotRegion& r : snap.targets[0])
            if (r.start < grown + (8 << 20) && grown < r.end)
                covered += std::min<uint64_t>(r.end, grown + (8 << 20)) - std::max<uint64_t>(r.start, grown);
        return covered == 8u << 20;
    };
    EXPECT_FALSE(covers_grown());
    // damon_va_update re-reads the mappings every update_us.
    EXPECT_TRUE(wait_until(covers_grown, 5000));
}

TEST_F(ProcessSources, PageoutOfAColdFileMappingLowersItsRss) {
    const std::string file = std::filesystem::temp_directory_path() / ("damond-pageout-" + std::to_string(getpid()));
    WorkloadProcess w({"--hot-mib", "4", "--cold-mib", "4", "--file", file, "--file-mib", "16"});
    std::filesystem::remove(file);  // the mapping keeps it alive
    const AddrRange f = w.area("file");
    const uint64_t rss_before = smaps_field(w.pid(), f.start, "Rss");
    ASSERT_GE(rss_before, 15u << 20);

    json spec = refs_spec(w, {f});
    // Page out what stays idle for 3 windows, file pages only.
    spec["schemes"] = {{{"action", "pageout"},
                        {"access_pattern", {{"nr_accesses", {{"min", 0}, {"max", 0}}}, {"age", {{"min", 3}}}}},
                        {"filters", {{{"type", "anon"}, {"matching", true}, {"allow", false}}}}}};
    InProcessMonitor m(spec_from_json(spec), thread, metrics);
    m.start();
    ASSERT_TRUE(wait_until([&] { return m.snapshot().schemes[0].stats.counters.sz_applied > 0; }, 10000));
    ASSERT_TRUE(wait_until([&] { return smaps_field(w.pid(), f.start, "Rss") < rss_before / 2; }, 5000))
        << "Rss " << smaps_field(w.pid(), f.start, "Rss") << " of " << rss_before;
    // Paged out: the region's age starts over.
    EXPECT_GT(m.snapshot().schemes[0].stats.counters.nr_applied, 0u);
}

TEST_F(ProcessSources, AnonFilterKeepsAnonymousMemory) {
    WorkloadProcess w({"--hot-mib", "4", "--cold-mib", "8"});
    const AddrRange c = w.area("cold");
    json spec = refs_spec(w, {c});
    spec["schemes"] = {{{"action", "pageout"},
                        {"access_pattern", {{"nr_accesses", {{"min", 0}, {"max", 0}}}, {"age", {{"min", 2}}}}},
                        {"filters", {{{"type", "anon"}, {"matching", true}, {"allow", false}}}}}};
    InProcessMonitor m(spec_from_json(spec), thread, metrics);
    m.start();
    ASSERT_TRUE(wait_until([&] { return m.snapshot().schemes[0].stats.counters.nr_tried > 3; }, 10000));
    const MonitorSnapshot snap = m.snapshot();
    EXPECT_EQ(snap.schemes[0].stats.counters.sz_applied, 0u);
    EXPECT_EQ(smaps_field(w.pid(), c.start, "Rss"), c.end - c.start);
}

TEST_F(ProcessSources, ATargetThatExitsStopsTheContextWithTheReason) {
    WorkloadProcess w({"--hot-mib", "2", "--cold-mib", "2", "--exit-after-ms", "300"});
    const pid_t pid = w.pid();
    InProcessMonitor m(spec_from_json(refs_spec(w, {w.area("hot")})), thread, metrics);
    std::atomic<int> events{0};
    m.set_event_handler([&] { events++; });
    m.start();
    EXPECT_EQ(w.finish(), 0);  // reaped: the pid is gone
    ASSERT_TRUE(wait_until([&] { return m.state() == MonitorState::Stopped; }, 5000));
    EXPECT_EQ(m.error(), "target process " + std::to_string(pid) + " exited");
    EXPECT_EQ(events, 1);
}

TEST_F(ProcessSources, ANonexistentPidIsAClearError) {
    // Find a pid that is not in use.
    pid_t pid = 4000000;
    while (kill(pid, 0) == 0) --pid;
    json spec = {{"ops", "refs"}, {"targets", {{{"pid_target", pid}}}}};
    try {
        InProcessMonitor m(spec_from_json(spec), thread, metrics);
        FAIL();
    } catch (const DamondError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidSpec);
        EXPECT_EQ(std::string(e.what()), "targets[0].pid_target: no process with pid " + std::to_string(pid));
    }
}

TEST_F(ProcessSources, ActionsTheKernelRefusesRemotelyAreRefused) {
    WorkloadProcess w({"--hot-mib", "2", "--cold-mib", "2"});
    json spec = refs_spec(w, {w.area("hot")});
    spec["schemes"] = {{{"action", "hugepage"}}};
    try {
        InProcessMonitor m(spec_from_json(spec), thread, metrics);
        FAIL();
    } catch (const DamondError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotSupported);
        EXPECT_NE(std::string(e.what()).find("schemes[0].action: 'hugepage'"), std::string::npos) << e.what();
    }
}

// The figures damond publishes, against a real process whose hot and cold
// areas are known: the hot area is the working set, the cold one has been
// idle since monitoring began.
TEST_F(ProcessSources, FiguresOfARealProcessMatchItsHotAndColdAreas) {
    WorkloadProcess w({"--hot-mib", "8", "--cold-mib", "24", "--period-ms", "2"});
    std::vector<AddrRange> areas{w.area("hot"), w.area("cold")};
    std::sort(areas.begin(), areas.end(), [](auto& a, auto& b) { return a.start < b.start; });
    InProcessMonitor m(spec_from_json(refs_spec(w, areas)), thread, metrics);
    m.start();
    ASSERT_TRUE(wait_until([&] { return m.figures().nr_aggregations >= 10; }, 10000));
    // Five aggregations' figures; the median working set (a window in which
    // the workload did not get the CPU would see less).
    std::vector<uint64_t> working;
    ContextFigures last;
    for (uint64_t seen = m.figures().nr_aggregations; working.size() < 5;) {
        const ContextFigures f = m.figures();
        if (f.nr_aggregations == seen) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        seen = f.nr_aggregations;
        working.push_back(f.working_set_bytes);
        last = f;
    }
    std::sort(working.begin(), working.end());
    constexpr double MiB = 1 << 20;
    EXPECT_EQ(last.monitored_bytes, uint64_t(32 * MiB));
    EXPECT_NEAR(double(working[2]), 8 * MiB, 0.1 * 8 * MiB);
    // 3/4 of the bytes idle since the start: p50, p90 and p99 all that long.
    const double idle_us = double(last.nr_aggregations) * double(last.aggr_us);
    EXPECT_NEAR(double(last.idle_p50_us), idle_us, 0.1 * idle_us);
    EXPECT_NEAR(double(last.idle_p99_us), idle_us, 0.1 * idle_us);
    // And the same figures as a snapshot of the same aggregation gives.
    m.pause();
    const ContextFigures paused = m.figures();
    EXPECT_EQ(figures_of(m.snapshot()).working_set_bytes, paused.working_set_bytes);
    EXPECT_EQ(figures_of(m.snapshot()).idle_p90_us, paused.idle_p90_us);
}
