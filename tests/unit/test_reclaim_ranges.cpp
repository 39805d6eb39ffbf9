// What of a background app's memory is paged out: idle in both of its contexts.
#include <gtest/gtest.h>

#include "manager/reclaim_ranges.hpp"
#include "regions_snapshot.hpp"

using namespace damond;
using namespace damond::testing;

namespace {

constexpr uint64_t kMiB = 1 << 20;

ReclaimRule rule(uint64_t min_idle_s, uint64_t max_bytes = 0) {
    ReclaimRule r;
    r.min_idle_us = min_idle_s * 1000000;
    r.min_aggregations = 10;
    r.max_bytes = max_bytes;
    return r;
}

}  // namespace

// The foreground's hot area (0-8 MiB) is cold to the background context, and
// the background's hot area (16-24) was cold to the paused foreground one:
// neither is chosen. What is idle in both is: 8-16 and 24-64.
TEST(ReclaimRanges, OnlyWhatBothContextsSawIdleIsChosen) {
    const MonitorSnapshot fg = regions_snapshot({{0, 8, 5, 3}, {8, 32, 0, 90}, {32, 64, 0, 200}});
    const MonitorSnapshot bg = regions_snapshot({{0, 16, 0, 300}, {16, 24, 3, 40}, {24, 64, 0, 120}});
    const ReclaimChoice c = choose_reclaim_ranges(fg, bg, rule(60));
    EXPECT_EQ(c.refused, "");
    ASSERT_EQ(c.targets.size(), 1u);
    // 24-32 idle 90 s (fg) and 120 s (bg), 32-64 200 and 120: one range, the shortest idle.
    EXPECT_EQ(c.targets[0],
              (std::vector<ReclaimRange>{{8 * kMiB, 16 * kMiB, 90000000}, {24 * kMiB, 64 * kMiB, 90000000}}));
    EXPECT_EQ(c.bytes, 48 * kMiB);
}

// Idle, but not for long enough in one of them: not chosen.
TEST(ReclaimRanges, IdleNotLongEnoughInEitherIsNotChosen) {
    const MonitorSnapshot fg = regions_snapshot({{0, 32, 0, 30}, {32, 64, 0, 100}});
    const MonitorSnapshot bg = regions_snapshot({{0, 48, 0, 100}, {48, 64, 0, 59}});
    const ReclaimChoice c = choose_reclaim_ranges(fg, bg, rule(60));
    EXPECT_EQ(c.targets[0], (std::vector<ReclaimRange>{{32 * kMiB, 48 * kMiB, 100000000}}));
}

// An access in the window under way is an access now.
TEST(ReclaimRanges, AnAccessInTheWindowUnderWayIsNotIdle) {
    MonitorSnapshot fg = regions_snapshot({{0, 64, 0, 100}});
    fg.targets[0][0].nr_accesses = 1;
    const ReclaimChoice c = choose_reclaim_ranges(fg, regions_snapshot({{0, 64, 0, 100}}), rule(60));
    EXPECT_TRUE(c.targets[0].empty());
    EXPECT_EQ(c.bytes, 0u);
}

// A context that aggregated too few times has not learned enough: nothing,
// and why.
TEST(ReclaimRanges, AContextThatHasNotLearnedEnoughIsNotActedOn) {
    const ReclaimChoice c =
        choose_reclaim_ranges(regions_snapshot({{0, 64, 0, 100}}), regions_snapshot({{0, 64, 0, 100}}, 9), rule(60));
    EXPECT_TRUE(c.targets.empty());
    EXPECT_EQ(c.refused, "its background context has aggregated 9 times, fewer than 10: it has not learned enough");
}

// Under a byte limit the longest idle goes first, cut to whole pages, and
// the ranges come back in address order.
TEST(ReclaimRanges, ALimitTakesTheLongestIdleFirst) {
    const MonitorSnapshot fg = regions_snapshot({{0, 16, 0, 100}, {16, 32, 3, 1}, {32, 48, 0, 500}});
    const MonitorSnapshot bg = regions_snapshot({{0, 48, 0, 1000}});
    const ReclaimChoice c = choose_reclaim_ranges(fg, bg, rule(60, 20 * kMiB + 100));
    EXPECT_EQ(c.targets[0], (std::vector<ReclaimRange>{{0, 4 * kMiB, 100000000}, {32 * kMiB, 48 * kMiB, 500000000}}));
    EXPECT_EQ(c.bytes, 20 * kMiB);
}

// Region edges inside pages: only whole pages.
TEST(ReclaimRanges, OnlyWholePages) {
    MonitorSnapshot fg = regions_snapshot({{0, 1, 0, 100}});
    fg.targets[0][0].start = 100;
    fg.targets[0][0].end = 3 * 4096 + 5;
    const ReclaimChoice c = choose_reclaim_ranges(fg, regions_snapshot({{0, 1, 0, 100}}), rule(60));
    EXPECT_EQ(c.targets[0], (std::vector<ReclaimRange>{{4096, 3 * 4096, 100000000}}));
}

// Clipping to what a process maps anonymously keeps each part's idle time.
TEST(ReclaimRanges, ClippedToAnotherSetOfRanges) {
    const std::vector<ReclaimRange> chosen{{0, 10, 5}, {20, 30, 7}};
    const std::vector<ReclaimRange> anon{{5, 25, 0}, {28, 40, 0}};
    EXPECT_EQ(clip_ranges(chosen, anon), (std::vector<ReclaimRange>{{5, 10, 5}, {20, 25, 7}, {28, 30, 7}}));
    EXPECT_TRUE(clip_ranges(chosen, {}).empty());
}

// Where only part of the address space may be chosen (a process's anonymous
// memory), the limit is spent there: the longest idle range, 32-48, is not
// mapped, so the limit goes to 0-16.
TEST(ReclaimRanges, ALimitIsSpentOnlyWhereItMayBe) {
    const MonitorSnapshot fg = regions_snapshot({{0, 16, 0, 100}, {16, 32, 3, 1}, {32, 48, 0, 500}});
    const MonitorSnapshot bg = regions_snapshot({{0, 48, 0, 1000}});
    const std::vector<std::vector<ReclaimRange>> within{{{0, 16 * kMiB, 0}}};
    const ReclaimChoice c = choose_reclaim_ranges(fg, bg, rule(60, 10 * kMiB), &within);
    EXPECT_EQ(c.targets[0], (std::vector<ReclaimRange>{{0, 10 * kMiB, 100000000}}));
    EXPECT_EQ(c.bytes, 10 * kMiB);
}
