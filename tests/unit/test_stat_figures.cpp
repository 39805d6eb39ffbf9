// DAMON_STAT's figures computed by damond, and the memory it watches.
#include <filesystem>

#include <gtest/gtest.h>

#include "temp_dir.hpp"

#include "kernel/damon_stat_stand_in.hpp"
#include "kernel/system_ram.hpp"
#include "monitor/stat_figures.hpp"

using namespace damond;

namespace {

SnapshotRegion region(uint64_t start, uint64_t end, uint32_t accesses, uint32_t age) {
    SnapshotRegion r;
    r.start = start;
    r.end = end;
    r.last_nr_accesses = accesses;
    r.nr_accesses = 99;  // the window under way does not count
    r.age = age;
    return r;
}

}  // namespace

// 10 % of the bytes accessed for 5 aggregations, 30 % idle for 2, 60 % idle
// for 9; 100 ms aggregations.
TEST(StatFigures, PercentilesAndBandwidthAsDamonStatDefinesThem) {
    MonitorSnapshot s;
    s.aggr_us = 100000;
    s.targets = {{region(0, 600, 0, 8), region(1000, 1100, 4, 4)}, {region(2000, 2300, 0, 1)}};
    const StatFigures f = stat_figures(s);
    EXPECT_EQ(f.aggr_interval_us, 100000u);
    // 100 bytes x 4 accesses per 0.1 s.
    EXPECT_EQ(f.estimated_memory_bandwidth, 4000u);
    EXPECT_EQ(f.idle_ms_percentiles[0], -500);
    EXPECT_EQ(f.idle_ms_percentiles[9], -500);
    EXPECT_EQ(f.idle_ms_percentiles[10], -500);  // the 10th percent ends in the hot region
    EXPECT_EQ(f.idle_ms_percentiles[11], 200);
    EXPECT_EQ(f.idle_ms_percentiles[40], 200);
    EXPECT_EQ(f.idle_ms_percentiles[41], 900);
    EXPECT_EQ(f.idle_ms_percentiles[100], 900);
    // Order of regions does not matter.
    std::swap(s.targets[0], s.targets[1]);
    EXPECT_EQ(stat_figures(s), f);
}

TEST(StatFigures, NothingToReportIsAllZero) {
    EXPECT_EQ(stat_figures(MonitorSnapshot{}), StatFigures{});
    MonitorSnapshot no_interval;
    no_interval.targets = {{region(0, 4096, 1, 1)}};
    EXPECT_EQ(stat_figures(no_interval).estimated_memory_bandwidth, 0u);
}

TEST(SystemRam, TheBiggestTopLevelRangeAndNothingForANonRootReader) {
    const std::string iomem =
        "00000000-00000fff : Reserved\n"
        "00001000-0009fbff : System RAM\n"
        "00100000-bffdffff : System RAM\n"
        "  01000000-01ffffff : Kernel code\n"
        "fd000000-fdffffff : PCI Bus 0000:00\n"
        "100000000-63fffffff : System RAM\n";
    EXPECT_EQ(biggest_system_ram(iomem), (AddrRange{0x100000000, 0x640000000}));
    EXPECT_EQ(biggest_system_ram("00100000-bffdffff : System RAM\n"), (AddrRange{0x100000, 0xbffe0000}));
    EXPECT_FALSE(biggest_system_ram("00000000-00000000 : System RAM\n00000000-00000000 : System RAM\n"));
    EXPECT_FALSE(biggest_system_ram("garbage\n-: System RAM\nzz-yy : System RAM\n"));
}

TEST(SystemRam, TheFirmwareMapSaysTheSameToEveryone) {
    damond::testing::TempDir dir;
    auto entry = [&](int n, const char* start, const char* end, const char* type) {
        const std::string d = dir.path() + "/" + std::to_string(n);
        std::filesystem::create_directories(d);
        dir.write(std::to_string(n) + "/start", std::string(start) + "\n");
        dir.write(std::to_string(n) + "/end", std::string(end) + "\n");
        dir.write(std::to_string(n) + "/type", std::string(type) + "\n");
    };
    entry(0, "0x0", "0x9fbff", "System RAM");
    entry(1, "0x100000", "0xbfffffff", "System RAM");
    entry(2, "0xeec00000", "0xfebfffff", "Reserved");
    entry(3, "0x100000000", "0x63fffffff", "System RAM");
    EXPECT_EQ(biggest_system_ram_in_memmap(dir.path()), (AddrRange{0x100000000, 0x640000000}));
    EXPECT_FALSE(biggest_system_ram_in_memmap(dir.path() + "/none"));
}

// The stand-in as DAMON_STAT sets itself up, but for the sampling bound
// (a read-back holds the kernel's DAMON sysfs lock for an aggregation), and
// with fixed intervals where the kernel cannot tune them (before 6.15).
TEST(DamonStatStandIn, TunedUpTo25MsOrFixedWhereTheKernelCannotTune) {
    const AddrRange ram{0x100000000, 0x640000000};
    const ContextSpec tuned = damon_stat_stand_in(ram);
    EXPECT_EQ(tuned.ops, Ops::Paddr);
    EXPECT_EQ(tuned.intervals.intervals_goal.access_bp, 400u);
    EXPECT_EQ(tuned.intervals.intervals_goal.aggrs, 3u);
    EXPECT_EQ(tuned.intervals.intervals_goal.max_sample_us, 25000u);
    EXPECT_EQ(tuned.intervals.aggr_us / tuned.intervals.sample_us, 20u);
    ASSERT_EQ(tuned.targets.size(), 1u);
    EXPECT_EQ(tuned.targets[0].regions, std::vector<AddrRange>{ram});
    const ContextSpec fixed = damon_stat_stand_in(ram, false);
    EXPECT_EQ(fixed.intervals.intervals_goal.aggrs, 0u);
    EXPECT_EQ(fixed.intervals.sample_us, 25000u);
    EXPECT_EQ(fixed.intervals.aggr_us, 500000u);
    EXPECT_EQ(fixed.nr_regions, tuned.nr_regions);
}
