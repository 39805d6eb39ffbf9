// damonctl's heatmap and access report computed from regions given here:
// rows are equal shares of the memory that exists (unmapped holes folded),
// the zoom, mapping edges, and the report's sums.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "access_report.hpp"
#include "format.hpp"
#include "heatmap.hpp"
#include "process_memory.hpp"

using namespace damonctl;

namespace {

constexpr uint64_t MiB = 1 << 20;

TEST(Heatmap, FoldsHolesAndWeighsRowsBySize) {
    // Two ranges with a 1 GiB hole between: four rows cover them folded.
    const std::vector<std::vector<std::vector<HeatRegion>>> snaps = {
        {{{0, 1024, 1.0, 0}, {1024, 2048, 0.0, 0}, {1 << 30, (1 << 30) + 2048, 0.5, 0}}},
        {{{0, 2048, 0.25, 0}, {1 << 30, (1 << 30) + 2048, 0.0, 0}}}};
    HeatOptions opt;
    opt.rows = 4;
    const Heatmap map = build_heatmap(snaps, {0, 100}, opt);
    ASSERT_EQ(map.targets.size(), 1u);
    const auto& t = map.targets[0];
    ASSERT_EQ(t.ranges.size(), 2u);
    ASSERT_EQ(t.rows.size(), 4u);
    EXPECT_EQ(t.rows[2].first, uint64_t(1) << 30);  // the hole is not a row
    EXPECT_EQ(t.levels[0], (std::vector<int>{9, 2}));
    EXPECT_EQ(t.levels[1], (std::vector<int>{0, 2}));
    EXPECT_EQ(t.levels[2], (std::vector<int>{5, 0}));
    EXPECT_EQ(t.levels[3], (std::vector<int>{5, 0}));
}

TEST(Heatmap, OnlyMappedMemoryGetsRows) {
    // One monitored range of 100 MiB; mapped: 0-16 (hot) and 80-96 (cold).
    const std::vector<std::vector<std::vector<HeatRegion>>> snaps = {
        {{{0, 16 * MiB, 1.0, 0}, {16 * MiB, 80 * MiB, 0.0, 5000000}, {80 * MiB, 100 * MiB, 0.0, 5000000}}}};
    HeatOptions opt;
    opt.rows = 4;
    opt.mapped = {{{0, 16 * MiB}, {80 * MiB, 96 * MiB}}};
    const Heatmap m = build_heatmap(snaps, {0}, opt);
    ASSERT_EQ(m.targets.size(), 1u);
    const auto& t = m.targets[0];
    EXPECT_EQ(t.total_bytes, 32 * MiB);
    ASSERT_EQ(t.rows.size(), 4u);
    EXPECT_EQ(t.rows[0], std::make_pair(uint64_t(0), 8 * MiB));
    EXPECT_EQ(t.rows[2], std::make_pair(80 * MiB, 88 * MiB)) << "the hole between is folded away";
    EXPECT_EQ(t.levels[0][0], 9);
    EXPECT_EQ(t.levels[1][0], 9);
    EXPECT_EQ(t.levels[2][0], 0);
    EXPECT_EQ(t.edges, std::vector<size_t>{2}) << "row 2 starts the second mapping";
    EXPECT_FALSE(t.zoomed) << "half the memory is accessed: nothing to zoom to";
}

TEST(Heatmap, ZoomsToTheAccessedPartWhenItIsUnderHalf) {
    const std::vector<std::vector<std::vector<HeatRegion>>> snaps = {
        {{{0, 500 * MiB, 0.0, 0}, {500 * MiB, 516 * MiB, 0.5, 0}, {516 * MiB, 1024 * MiB, 0.0, 0}}}};
    HeatOptions opt;
    opt.rows = 8;
    const Heatmap m = build_heatmap(snaps, {0}, opt);
    const auto& t = m.targets[0];
    EXPECT_TRUE(t.zoomed);
    EXPECT_EQ(t.total_bytes, 1024 * MiB);
    EXPECT_EQ(t.rows.front().first, 499 * MiB) << "a sixteenth of the window's margin";
    EXPECT_EQ(t.rows.back().second, 517 * MiB);
    opt.zoom = false;
    EXPECT_FALSE(build_heatmap(snaps, {0}, opt).targets[0].zoomed);
    opt.range = std::make_pair(uint64_t(0), 64 * MiB);
    const Heatmap mr = build_heatmap(snaps, {0}, opt);
    const auto& r = mr.targets[0];
    EXPECT_EQ(r.rows.back().second, 64 * MiB);
}

TEST(Heatmap, AgeModeLevelsByIdleTime) {
    EXPECT_EQ(idle_level(0), 9);
    EXPECT_EQ(idle_level(999999), 9);
    EXPECT_EQ(idle_level(1000000), 8);
    EXPECT_EQ(idle_level(600000000), 0);
    EXPECT_EQ(level_label(HeatMode::idle, 0), "idle ≥10 min");
    EXPECT_EQ(level_label(HeatMode::access, 9), "≥90 %");
    const std::vector<std::vector<std::vector<HeatRegion>>> snaps = {
        {{{0, 4 * MiB, 0.5, 0}, {4 * MiB, 8 * MiB, 0.0, 700000000}}}};
    HeatOptions opt;
    opt.rows = 2;
    opt.mode = HeatMode::idle;
    const Heatmap m = build_heatmap(snaps, {0}, opt);
    const auto& t = m.targets[0];
    EXPECT_EQ(t.levels[0][0], 9);
    EXPECT_EQ(t.levels[1][0], 0);
}

TEST(Heatmap, SvgHasTicksAScaleAndBoldMappingStarts) {
    const std::vector<std::vector<std::vector<HeatRegion>>> snaps(
        21, {{{0, 16 * MiB, 1.0, 0}, {80 * MiB, 96 * MiB, 0.0, 5000000}}});
    std::vector<uint64_t> times;
    for (uint64_t i = 0; i <= 20; ++i) times.push_back(i * 1000000);
    HeatOptions opt;
    opt.rows = 10;
    const std::string svg = render_svg(build_heatmap(snaps, times, opt), "t");
    for (const char* tick : {">0 s<", ">2 s<", ">10 s<", ">20 s<"})
        EXPECT_NE(svg.find(tick), std::string::npos) << tick;
    EXPECT_EQ(svg.find(">1 s<"), std::string::npos) << "ticks at least 40 px apart: 2 s on 24 px a second";
    EXPECT_NE(svg.find("access rate"), std::string::npos);
    EXPECT_NE(svg.find("font-weight=\"bold\">0x000005000000<"), std::string::npos) << "the second range's start";
}

// A reservation nothing touched is not memory the process has; what it
// touched is, cut at its mapping's edges.
TEST(ProcessMemory, ReservationsAreLeftOutAndTouchedMemoryKept) {
    const size_t reserved_size = size_t(1) << 30, touched_size = 4 * MiB;
    void* reserved = mmap(nullptr, reserved_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void* touched = mmap(nullptr, touched_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(reserved, MAP_FAILED);
    ASSERT_NE(touched, MAP_FAILED);
    std::memset(touched, 1, touched_size);
    const ProcessMemory m = process_memory(getpid());
    const uint64_t r = reinterpret_cast<uint64_t>(reserved), t = reinterpret_cast<uint64_t>(touched);
    bool has_reserved = false, has_touched = false;
    for (const auto& [start, end] : m.ranges) {
        has_reserved = has_reserved || (start < r + reserved_size && end > r);
        has_touched = has_touched || (start <= t && end >= t + touched_size);
    }
    munmap(reserved, reserved_size);
    munmap(touched, touched_size);
    if (!m.resident) GTEST_SKIP() << "no PAGEMAP_SCAN (Linux before 6.7): the mapped ranges alone";
    EXPECT_FALSE(has_reserved) << "1 GiB reserved, never touched";
    EXPECT_TRUE(has_touched);
}

TEST(Format, RoundDurations) {
    EXPECT_EQ(round_duration_us(0), "0 s");
    EXPECT_EQ(round_duration_us(500000), "500 ms");
    EXPECT_EQ(round_duration_us(600000000), "10 min");
    EXPECT_EQ(round_duration_us(1500000), "1.5 s");
}

TEST(AccessReport, SumsAndPercentilesBySize) {
    // 10 MiB accessed, 30 MiB idle 20 s, 60 MiB idle 2 h.
    const nlohmann::json snap = nlohmann::json::parse(R"({
      "intervals": {"sample_us": 1000, "aggr_us": 100000}, "nr_aggregations": 100000,
      "targets": [{"regions": [
        {"start": 0, "end": 10485760, "last_nr_accesses": 50, "age": 3},
        {"start": 10485760, "end": 41943040, "last_nr_accesses": 0, "age": 200},
        {"start": 41943040, "end": 104857600, "last_nr_accesses": 0, "age": 72000}]}],
      "schemes": [{"stats": {"nr_applied": 3, "sz_applied": 4096}}]})");
    const AccessReport r = access_report(snap, {"pageout"});
    EXPECT_EQ(r.total_bytes, 100 * MiB);
    EXPECT_EQ(r.working_set_bytes, 10 * MiB);
    // percentiles 0, 10, 25, 50, 75, 90, 99, 100
    EXPECT_EQ(r.idle_us, (std::vector<uint64_t>{0, 20000000, 20000000, 7200000000, 7200000000, 7200000000, 7200000000,
                                                7200000000}));
    EXPECT_DOUBLE_EQ(r.rate.back(), 0.5);
    EXPECT_EQ(r.idle_histogram[0].bytes, 10 * MiB);
    EXPECT_EQ(r.idle_histogram[3].label, "10 s - 1 min");
    EXPECT_EQ(r.idle_histogram[3].bytes, 30 * MiB);
    EXPECT_EQ(r.idle_histogram.back().bytes, 60 * MiB);
    EXPECT_EQ(r.idle_histogram[1].at_least_bytes, 90 * MiB) << "idle at all";
    EXPECT_EQ(r.idle_histogram.back().at_least_bytes, 60 * MiB);
    ASSERT_EQ(r.coldest.size(), 2u);
    EXPECT_EQ(r.coldest[0].start, 40 * MiB);
    ASSERT_EQ(r.hottest.size(), 1u);
    ASSERT_EQ(r.schemes.size(), 1u);
    EXPECT_EQ(r.schemes[0].action, "pageout");
    EXPECT_EQ(r.schemes[0].nr_applied, 3u);
    EXPECT_NE(report_text("c", r).find("60.00 MiB"), std::string::npos);
}

}  // namespace
