// The core's rules against hand-computed expectations from mm/damon/core.c.
#include <gtest/gtest.h>

#include "core/damon_core.hpp"
#include "core/synthetic_source.hpp"

using namespace damond;

namespace {

constexpr uint64_t P = kMinRegionSize;

Region region(uint64_t start, uint64_t end, uint32_t nr, uint32_t last, uint32_t age) {
    Region r;
    r.start = start;
    r.end = end;
    r.nr_accesses = nr;
    r.last_nr_accesses = last;
    r.age = age;
    return r;
}

ManualClock g_clock;
NoSystemMetrics g_metrics;

std::unique_ptr<DamonCore> make_core(uint64_t seed, MonitoringAttrs attrs = {}, std::vector<Scheme> schemes = {}) {
    // 64 MiB with a hot 4 MiB set and a warm 8 MiB set.
    std::vector<SyntheticTarget> workload{
        {7, {SyntheticPhase{0, {{{0, 4 << 20}, 9000}, {{32 << 20, 40 << 20}, 2000}}}}, {}}};
    return std::make_unique<DamonCore>(attrs, std::vector<TargetRanges>{{{0, 64 << 20}}}, std::move(schemes),
                                       std::make_unique<SyntheticSource>(workload), seed, g_clock, g_metrics);
}

void run_samples(DamonCore& core, int n) {
    for (int i = 0; i < n; ++i) {
        core.prepare_sample();
        core.finish_sample();
    }
}

}  // namespace

TEST(CoreMerge, AgeGrowsWhileAccessRateHolds) {
    MonitorTarget t{{region(0, P, 5, 4, 7)}};
    merge_regions_of(t, 2, 100 * P);
    EXPECT_EQ(t.regions[0].age, 8u);
}

TEST(CoreMerge, AgeResetsWhenRateChangesBeyondThreshold) {
    MonitorTarget t{{region(0, P, 9, 4, 7)}};
    merge_regions_of(t, 2, 100 * P);
    EXPECT_EQ(t.regions[0].age, 0u);
}

TEST(CoreMerge, AgeResetsOnIdleToAccessedFlip) {
    MonitorTarget t{{region(0, P, 1, 0, 7)}};
    merge_regions_of(t, 2, 100 * P);
    EXPECT_EQ(t.regions[0].age, 0u);
}

TEST(CoreMerge, MergesSimilarNeighboursWithSizeWeightedAverages) {
    // 1 page (nr 4, age 10 -> 11) + 3 pages (nr 6, age 2 -> 3):
    // nr = (4*1 + 6*3)/4 = 5, age = (11*1 + 3*3)/4 = 5.
    MonitorTarget t{{region(0, P, 4, 4, 10), region(P, 4 * P, 6, 6, 2)}};
    merge_regions_of(t, 2, 100 * P);
    ASSERT_EQ(t.regions.size(), 1u);
    EXPECT_EQ(t.regions[0].end, 4 * P);
    EXPECT_EQ(t.regions[0].nr_accesses, 5u);
    EXPECT_EQ(t.regions[0].age, 5u);
}

TEST(CoreMerge, KeepsApartWhenTooDifferentTooBigOrNotAdjacent) {
    MonitorTarget different{{region(0, P, 1, 1, 0), region(P, 2 * P, 9, 9, 0)}};
    merge_regions_of(different, 2, 100 * P);
    EXPECT_EQ(different.regions.size(), 2u);

    MonitorTarget too_big{{region(0, P, 1, 1, 0), region(P, 2 * P, 1, 1, 0)}};
    merge_regions_of(too_big, 2, P);
    EXPECT_EQ(too_big.regions.size(), 2u);

    MonitorTarget gap{{region(0, P, 1, 1, 0), region(2 * P, 3 * P, 1, 1, 0)}};
    merge_regions_of(gap, 2, 100 * P);
    EXPECT_EQ(gap.regions.size(), 2u);
}

TEST(CoreMerge, RaisesThresholdUntilUnderMaxRegions) {
    DamonContext ctx;
    ctx.attrs.sample_us = 1000;
    ctx.attrs.aggr_us = 20000;  // threshold may rise to 20
    ctx.attrs.max_nr_regions = 3;
    ctx.targets.resize(1);
    for (uint32_t i = 0; i < 6; ++i) ctx.targets[0].regions.push_back(region(i * P, (i + 1) * P, i * 3, i * 3, 0));
    merge_regions(ctx, 0, 100 * P);
    EXPECT_LE(ctx.targets[0].regions.size(), 3u);
}

TEST(CoreSplit, PiecesArePageAlignedCoverTheRegionAndInheritHistory) {
    Rng rng(1);
    MonitorTarget t{{region(0, 100 * P, 3, 2, 9)}};
    split_regions_of(t, 3, rng);
    ASSERT_EQ(t.regions.size(), 3u);
    uint64_t expect_start = 0;
    for (const Region& r : t.regions) {
        EXPECT_EQ(r.start, expect_start);
        EXPECT_EQ(r.start % P, 0u);
        EXPECT_GT(r.end, r.start);
        EXPECT_EQ(r.age, 9u);
        EXPECT_EQ(r.nr_accesses, 3u);
        EXPECT_EQ(r.last_nr_accesses, 2u);
        expect_start = r.end;
    }
    EXPECT_EQ(expect_start, 100 * P);
}

TEST(CoreSplit, LeavesRegionsOfTwoPagesOrLess) {
    Rng rng(1);
    MonitorTarget t{{region(0, 2 * P, 0, 0, 0)}};
    split_regions_of(t, 2, rng);
    EXPECT_EQ(t.regions.size(), 1u);
}

TEST(CoreSplit, OnlyBelowHalfMaxAndThreeWayWhenCountIsUnchanged) {
    DamonContext ctx;
    ctx.attrs.max_nr_regions = 10;
    ctx.targets = {MonitorTarget{{region(0, 1000 * P, 0, 0, 0), region(1000 * P, 2000 * P, 0, 0, 0)}}};
    split_regions(ctx);  // 2 <= 10/2: split in two
    EXPECT_EQ(ctx.targets[0].regions.size(), 4u);
    EXPECT_EQ(ctx.last_nr_regions_at_split, 2u);

    ctx.targets = {MonitorTarget{{region(0, 1000 * P, 0, 0, 0), region(1000 * P, 2000 * P, 0, 0, 0)}}};
    split_regions(ctx);  // same count as last time and 2 < 10/3: three pieces
    EXPECT_EQ(ctx.targets[0].regions.size(), 6u);

    ctx.targets[0].regions.resize(6);
    split_regions(ctx);  // 6 > 10/2: no split
    EXPECT_EQ(ctx.targets[0].regions.size(), 6u);
}

TEST(CoreRegions, SzLimitIsTotalOverMinRegionsAtLeastAPage) {
    DamonContext ctx;
    ctx.attrs.min_nr_regions = 10;
    ctx.targets = {MonitorTarget{{region(0, 100 * P, 0, 0, 0)}}};
    EXPECT_EQ(region_sz_limit(ctx), 10 * P);
    ctx.targets = {MonitorTarget{{region(0, P, 0, 0, 0)}}};
    EXPECT_EQ(region_sz_limit(ctx), P);
}

TEST(CoreRegions, SetRegionsKeepsIntersectingHistoryAndFillsHoles) {
    MonitorTarget t{{region(0, 4 * P, 1, 1, 5), region(8 * P, 12 * P, 2, 2, 6), region(20 * P, 24 * P, 3, 3, 7)}};
    set_regions(t, {{2 * P, 16 * P}});
    // The region at 20P no longer intersects: gone. The first is trimmed to
    // 2P, the last of the range extended to 16P, the hole 4P..8P filled fresh.
    ASSERT_EQ(t.regions.size(), 3u);
    EXPECT_EQ(t.regions[0], region(2 * P, 4 * P, 1, 1, 5));
    EXPECT_EQ(t.regions[1], region(4 * P, 8 * P, 0, 0, 0));
    EXPECT_EQ(t.regions[2], region(8 * P, 16 * P, 2, 2, 6));
}

TEST(CoreRegions, SetRegionsWithSameRangeIsANoOp) {
    MonitorTarget t{{region(0, 4 * P, 1, 1, 5), region(4 * P, 8 * P, 2, 2, 6)}};
    const MonitorTarget before = t;
    set_regions(t, {{0, 8 * P}});
    EXPECT_EQ(t, before);
}

TEST(CoreRegions, ApplyMinNrRegionsSplitsOversizedRegions) {
    DamonContext ctx;
    ctx.attrs.min_nr_regions = 4;
    ctx.targets = {MonitorTarget{{region(0, 16 * P, 0, 0, 3)}}};
    apply_min_nr_regions(ctx);
    ASSERT_EQ(ctx.targets[0].regions.size(), 4u);
    for (const Region& r : ctx.targets[0].regions) {
        EXPECT_EQ(r.size(), 4 * P);
        EXPECT_EQ(r.age, 3u);
    }
}

TEST(CoreAttrs, NewAggregationIntervalRescalesAgeAndAccesses) {
    DamonContext ctx;
    ctx.attrs = MonitoringAttrs{5000, 100000, 1000000, 10, 1000, {}};  // 20 samples per window
    ctx.targets = {MonitorTarget{{region(0, P, 3, 10, 40)}}};
    ctx.passed_sample_intervals = 7;  // in the middle of a window
    ctx.next_aggregation_sis = 20;
    set_attrs(ctx, MonitoringAttrs{5000, 200000, 1000000, 10, 1000, {}});  // 40 samples per window
    const Region& r = ctx.targets[0].regions[0];
    EXPECT_EQ(r.age, 20u);               // 40 * 100ms / 200ms
    EXPECT_EQ(r.last_nr_accesses, 20u);  // 10/20 = 5000 bp -> 5000 * 40 / 10000
    EXPECT_EQ(r.nr_accesses, 0u);        // the partial window is dropped
    EXPECT_EQ(ctx.next_aggregation_sis, 7u + 40u);
    EXPECT_EQ(ctx.next_ops_update_sis, 7u + 200u);
}

TEST(CoreAttrs, AtAWindowsEndTheFinishedWindowIsConverted) {
    DamonContext ctx;
    ctx.attrs = MonitoringAttrs{5000, 100000, 1000000, 10, 1000, {}};
    ctx.targets = {MonitorTarget{{region(0, P, 10, 4, 40)}}};
    ctx.passed_sample_intervals = 20;
    ctx.next_aggregation_sis = 20;
    set_attrs(ctx, MonitoringAttrs{10000, 200000, 1000000, 10, 1000, {}});  // still 20 samples per window
    EXPECT_EQ(ctx.targets[0].regions[0].nr_accesses, 10u);
    EXPECT_EQ(ctx.targets[0].regions[0].last_nr_accesses, 4u);
    EXPECT_EQ(ctx.targets[0].regions[0].age, 20u);
}

TEST(CoreAttrs, ThroughZeroIntervalsNothingIsConverted) {
    // The deep pause's path: 5 ms/100 ms -> 0/0 -> 1 s/1 s -> 0/0 -> 5 ms/100 ms.
    DamonContext ctx;
    ctx.attrs = MonitoringAttrs{5000, 100000, 1000000, 10, 1000, {}};
    ctx.targets = {MonitorTarget{{region(0, P, 3, 10, 40)}}};
    ctx.passed_sample_intervals = 7;
    ctx.next_aggregation_sis = 20;
    const Region before = ctx.targets[0].regions[0];
    for (const MonitoringAttrs& a :
         {MonitoringAttrs{0, 0, 1000000, 10, 1000, {}}, MonitoringAttrs{1000000, 1000000, 1000000, 10, 1000, {}},
          MonitoringAttrs{0, 0, 1000000, 10, 1000, {}}, MonitoringAttrs{5000, 100000, 1000000, 10, 1000, {}}})
        set_attrs(ctx, a);
    EXPECT_EQ(ctx.targets[0].regions[0], before);
    // A direct change to 1 s windows would have divided the age by ten.
    set_attrs(ctx, MonitoringAttrs{1000000, 1000000, 1000000, 10, 1000, {}});
    EXPECT_EQ(ctx.targets[0].regions[0].age, 4u);
}

TEST(CoreAttrs, EqualAttrsChangeNothing) {
    DamonContext ctx;
    ctx.targets = {MonitorTarget{{region(0, P, 3, 10, 40)}}};
    ctx.next_aggregation_sis = 99;
    const DamonContext before = ctx;
    set_attrs(ctx, ctx.attrs);
    EXPECT_EQ(ctx, before);
}

TEST(Core, AggregatesEveryAggrOverSampleSamples) {
    auto core = make_core(1, MonitoringAttrs{5000, 100000, 1000000, 10, 1000, {}});
    core->start();
    run_samples(*core, 19);
    EXPECT_EQ(core->context().nr_aggregations, 0u);
    run_samples(*core, 1);
    EXPECT_EQ(core->context().nr_aggregations, 1u);
    run_samples(*core, 40);
    EXPECT_EQ(core->context().nr_aggregations, 3u);
}

TEST(Core, DeterministicUnderASeed) {
    auto a = make_core(42), b = make_core(42), c = make_core(43);
    for (auto* core : {a.get(), b.get(), c.get()}) {
        core->start();
        run_samples(*core, 500);
    }
    EXPECT_EQ(a->context(), b->context());
    EXPECT_NE(a->context().targets, c->context().targets);
}

TEST(Core, RegionCountStaysWithinMinAndMax) {
    auto core = make_core(5, MonitoringAttrs{1000, 10000, 1000000, 10, 40, {}});
    core->start();
    for (int i = 0; i < 2000; ++i) {
        run_samples(*core, 1);
        const size_t n = core->context().targets[0].regions.size();
        ASSERT_GE(n, 10u) << "after sample " << i;
        ASSERT_LE(n, 40u) << "after sample " << i;
    }
}

TEST(Core, FindsTheHotSet) {
    auto core = make_core(9, MonitoringAttrs{1000, 20000, 1000000, 10, 200, {}});
    core->start();
    run_samples(*core, 20 * 50);
    // Weighted mean of last_nr_accesses over the hot, warm and cold parts.
    auto mean_in = [&](uint64_t lo, uint64_t hi) {
        double sum = 0, size = 0;
        for (const Region& r : core->context().targets[0].regions) {
            const uint64_t s = std::max(r.start, lo), e = std::min(r.end, hi);
            if (s >= e) continue;
            sum += double(r.last_nr_accesses) * double(e - s);
            size += double(e - s);
        }
        return sum / size;
    };
    const double hot = mean_in(0, 4 << 20), warm = mean_in(32 << 20, 40 << 20), cold = mean_in(48 << 20, 64 << 20);
    EXPECT_GT(hot, 14.0);  // 90% of 20 samples
    EXPECT_GT(warm, 2.0);  // 20% of 20 samples
    EXPECT_LT(warm, 8.0);
    EXPECT_LT(cold, 0.5);
}

TEST(Core, CommitOfSameRangesAndAttrsKeepsEverything) {
    auto core = make_core(3);
    core->start();
    run_samples(*core, 300);
    const DamonContext before = core->context();
    core->commit(before.attrs, {{{0, 64 << 20}}}, {});
    EXPECT_EQ(core->context(), before);
    core->commit(before.attrs, {{}}, {});  // no ranges: keep regions
    EXPECT_EQ(core->context(), before);
}
