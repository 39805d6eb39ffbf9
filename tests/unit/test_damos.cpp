// DAMOS and intervals tuning against hand-computed expectations from
// mm/damon/core.c and ops-common.c.
#include <gtest/gtest.h>

#include "core/damon_core.hpp"
#include "core/damos.hpp"

using namespace damond;

namespace {

constexpr uint64_t P = kMinRegionSize;

Region region(uint64_t start, uint64_t end, uint32_t nr, uint32_t age) {
    Region r;
    r.start = start;
    r.end = end;
    r.nr_accesses = nr;
    r.nr_accesses_bp = nr * 10000;
    r.last_nr_accesses = nr;
    r.age = age;
    return r;
}

// Applies every action to whole regions and records what it was asked.
struct RecordingOps : AccessSource {
    std::vector<std::pair<uint64_t, uint64_t>> applied;
    bool valid = true;
    std::string name() const override { return "recording"; }
    AccessSourceCaps caps() const override { return {}; }
    void update(DamonContext&) override {}
    void prepare_access_checks(DamonContext&) override {}
    uint32_t check_accesses(DamonContext&) override { return 0; }
    bool target_valid(size_t) override { return valid; }
    uint64_t apply_scheme(DamonContext&, size_t, const Region& r, const DamosScheme& s, uint64_t& passed) override {
        applied.emplace_back(r.start, r.end);
        passed = r.size();
        return s.params.action == Action::Stat ? 0 : r.size();
    }
};

struct FixedMetrics : SystemMetrics {
    std::optional<uint64_t> free_rate;
    uint64_t psi = 0;
    std::optional<uint64_t> free_mem_rate() override { return free_rate; }
    uint64_t some_mem_psi_total_us() override { return psi; }
    std::optional<uint64_t> goal_metric(const QuotaGoal&) override { return 2500; }
};

DamonContext context_with(std::vector<Region> regions, Scheme params) {
    DamonContext ctx;
    ctx.attrs = MonitoringAttrs{5000, 100000, 1000000, 3, 1000, {}};  // 20 samples per window
    ctx.targets = {MonitorTarget{std::move(regions)}};
    ctx.schemes = {make_scheme(params)};
    set_next_apply_sis(ctx.schemes[0], ctx);  // as kdamond_init_ctx does
    return ctx;
}

Scheme scheme_of(Action action) {
    Scheme s;
    s.action = action;
    return s;
}

}  // namespace

TEST(DamosPattern, MatchesOnSizeSmoothedAccessesAndAge) {
    Scheme p = scheme_of(Action::Stat);
    p.access_pattern.sz = {2 * P, 8 * P};
    p.access_pattern.nr_accesses = {3, 5};
    p.access_pattern.age = {10, 20};
    const DamosScheme s = make_scheme(p);
    EXPECT_TRUE(matches_access_pattern(region(0, 4 * P, 4, 15), s));
    EXPECT_FALSE(matches_access_pattern(region(0, P, 4, 15), s));      // too small
    EXPECT_FALSE(matches_access_pattern(region(0, 4 * P, 6, 15), s));  // too hot
    EXPECT_FALSE(matches_access_pattern(region(0, 4 * P, 4, 21), s));  // too old
    Region r = region(0, 4 * P, 9, 15);
    r.nr_accesses_bp = 39999;  // matching reads the smoothed count: 3
    EXPECT_TRUE(matches_access_pattern(r, s));
}

TEST(DamosAccessRate, MovingSumDropsAnAverageSampleAndAddsThisOne) {
    MonitoringAttrs a{5000, 100000, 1000000, 3, 1000, {}};  // window of 20 samples
    Region r = region(0, P, 0, 0);
    r.last_nr_accesses = 10;
    r.nr_accesses_bp = 100000;
    update_region_access_rate(r, false, a);
    EXPECT_EQ(r.nr_accesses_bp, 95000u);  // - 10 * 10000 / 20
    EXPECT_EQ(r.nr_accesses, 0u);
    update_region_access_rate(r, true, a);
    EXPECT_EQ(r.nr_accesses_bp, 100000u);
    EXPECT_EQ(r.nr_accesses, 1u);
}

TEST(DamosScore, HotAndColdScoresFollowOpsCommon) {
    DamonContext ctx;
    ctx.attrs = MonitoringAttrs{5000, 100000, 1000000, 3, 1000, {}};
    Scheme p = scheme_of(Action::Pageout);
    p.quotas.weights = {0, 1000, 0};  // frequency only
    // 10 of 20 samples: subscore 50 -> 50 * 99 / 100 = 49.
    EXPECT_EQ(hot_score(ctx, region(0, P, 10, 0), make_scheme(p)), 49u);
    EXPECT_EQ(cold_score(ctx, region(0, P, 10, 0), make_scheme(p)), 50u);

    p.quotas.weights = {0, 0, 1000};  // age only
    // age 80 x 100 ms = 8 s -> log2 steps 4; idle, so -4 + 32 = 28 ->
    // 28 * 100 / 32 / 2 = 43 -> 43 * 99 / 100 = 42.
    EXPECT_EQ(hot_score(ctx, region(0, P, 0, 80), make_scheme(p)), 42u);
    // The same age while accessed counts as hot: 36 * 100 / 32 / 2 = 56 -> 55.
    EXPECT_EQ(hot_score(ctx, region(0, P, 1, 80), make_scheme(p)), 55u);
}

TEST(DamosQuota, FeedLoopMovesInputTowardTheGoal) {
    EXPECT_EQ(feed_loop_next_input(10000, 10000), 10000u);
    EXPECT_EQ(feed_loop_next_input(10000, 5000), 15000u);   // under-achieving: +50%
    EXPECT_EQ(feed_loop_next_input(30000, 15000), 15000u);  // over-achieving: -50%
    EXPECT_EQ(feed_loop_next_input(12000, 14000), 10000u);  // floored at the minimum input
    EXPECT_EQ(feed_loop_next_input(99999, 20000), 10000u);  // twice the goal: back to the minimum
}

TEST(DamosQuota, EffectiveQuotaTakesTheSmallestLimit) {
    FixedMetrics m;
    Scheme p = scheme_of(Action::Pageout);
    p.quotas.bytes = 8 * P;
    DamosScheme s = make_scheme(p);
    set_effective_quota(s, m);
    EXPECT_EQ(s.quota.esz, 8 * P);

    p.quotas.ms = 10;  // no throughput yet: a page per microsecond, 4 KiB * 1024 * 10
    p.quotas.bytes = 0;
    s = make_scheme(p);
    set_effective_quota(s, m);
    EXPECT_EQ(s.quota.esz, 4096u * 1024 * 10);
    s.quota.total_charged_sz = 1000000;
    s.quota.total_charged_ns = 2000000;  // 1 MB in 2 ms: 500000 bytes per ms
    set_effective_quota(s, m);
    EXPECT_EQ(s.quota.esz, 5000000u);

    p.quotas.ms = 0;
    p.quotas.goals = {QuotaGoal{GoalMetric::UserInput, 10000, 5000, 0, ""}};
    s = make_scheme(p);
    set_effective_quota(s, m);  // score 5000: esz_bp 10000 -> 15000
    EXPECT_EQ(s.quota.esz_bp, 15000u);
    EXPECT_EQ(s.quota.esz, 1u);

    p.quotas.goals = {QuotaGoal{GoalMetric::NodeMemFreeBp, 5000, 0, 0, ""}};  // metric reads 2500
    s = make_scheme(p);
    s.quota.esz_bp = 40000;
    set_effective_quota(s, m);
    EXPECT_EQ(s.quota.esz_bp, 60000u);
    EXPECT_EQ(s.goals[0].current_value, 2500u);
}

TEST(DamosQuota, PsiGoalReadsTheStallTimeSinceLastWindow) {
    FixedMetrics m;
    Scheme p = scheme_of(Action::Pageout);
    p.quotas.goals = {QuotaGoal{GoalMetric::SomeMemPsiUs, 1000, 0, 0, ""}};
    DamosScheme s = make_scheme(p);
    m.psi = 5000;
    set_effective_quota(s, m);
    m.psi = 5500;
    set_effective_quota(s, m);
    EXPECT_EQ(s.goals[0].current_value, 500u);
}

TEST(DamosQuota, PrioritisationLetsOnlyTheColdestBytesThrough) {
    // Pageout by age: the oldest idle regions have the highest cold score.
    Scheme p = scheme_of(Action::Pageout);
    p.quotas.bytes = 10 * P;
    p.quotas.reset_interval_ms = 1000;
    p.quotas.weights = {0, 0, 1000};
    DamonContext ctx =
        context_with({region(0, 4 * P, 0, 5), region(4 * P, 12 * P, 0, 400), region(12 * P, 28 * P, 0, 100)}, p);
    RecordingOps ops;
    FixedMetrics m;
    adjust_quota(ctx, ctx.schemes[0], ops, m, 0);
    EXPECT_EQ(ctx.schemes[0].quota.esz, 10 * P);
    // Cold scores (99 - hot): age 400 (40 s, 6 log steps) -> 99 - 39 = 60;
    // age 100 (10 s, 4 steps) -> 99 - 42 = 57; age 5 (0 s) -> 99 - 49 = 50.
    // 8 pages at 60 are short of 10, 8 + 16 at 57 are enough: min_score 57.
    EXPECT_EQ(ctx.schemes[0].quota.min_score, 57u);
}

TEST(DamosApply, QuotaSplitsTheLastRegionAndResumesAfterItNextWindow) {
    Scheme p = scheme_of(Action::Pageout);
    p.quotas.bytes = 6 * P;
    p.quotas.reset_interval_ms = 1000;
    DamonContext ctx =
        context_with({region(0, 4 * P, 0, 9), region(4 * P, 8 * P, 0, 9), region(8 * P, 12 * P, 0, 9)}, p);
    RecordingOps ops;
    FixedMetrics m;
    ManualClock clock;
    ctx.passed_sample_intervals = ctx.schemes[0].next_apply_sis;
    apply_schemes(ctx, ops, m, clock);
    // 4 pages, then the 2 left of the quota from a split second region.
    EXPECT_EQ(ops.applied, (std::vector<std::pair<uint64_t, uint64_t>>{{0, 4 * P}, {4 * P, 6 * P}}));
    EXPECT_EQ(ctx.targets[0].regions.size(), 4u);
    EXPECT_EQ(ctx.targets[0].regions[0].age, 0u);  // acted on: age restarts
    EXPECT_EQ(ctx.targets[0].regions[2].age, 9u);
    EXPECT_EQ(ctx.schemes[0].stat.sz_applied, 6 * P);
    EXPECT_EQ(ctx.schemes[0].stat.nr_applied, 2u);
    EXPECT_EQ(ctx.schemes[0].tried_regions.size(), 2u);

    // Next window (a second later): starts after the last charged region.
    // The kernel's cursor is its end + 1, so the page after it is skipped too.
    ops.applied.clear();
    clock.advance(1000000);
    ctx.passed_sample_intervals = ctx.schemes[0].next_apply_sis;
    apply_schemes(ctx, ops, m, clock);
    EXPECT_EQ(ctx.schemes[0].stat.qt_exceeds, 1u);
    ASSERT_FALSE(ops.applied.empty());
    EXPECT_EQ(ops.applied[0].first, 7 * P);
}

TEST(DamosApply, StatCountsWithoutActingAndKeepsAge) {
    DamonContext ctx = context_with({region(0, 4 * P, 2, 9), region(4 * P, 8 * P, 2, 9)}, scheme_of(Action::Stat));
    RecordingOps ops;
    FixedMetrics m;
    ManualClock clock;
    apply_schemes(ctx, ops, m, clock);  // not due yet
    EXPECT_EQ(ctx.schemes[0].stat.nr_tried, 0u);
    ctx.passed_sample_intervals = 20;  // one aggregation interval
    apply_schemes(ctx, ops, m, clock);
    EXPECT_EQ(ctx.schemes[0].stat.nr_tried, 2u);
    EXPECT_EQ(ctx.schemes[0].stat.sz_tried, 8 * P);
    EXPECT_EQ(ctx.schemes[0].stat.nr_applied, 0u);
    EXPECT_EQ(ctx.targets[0].regions[0].age, 9u);
    EXPECT_EQ(ctx.schemes[0].next_apply_sis, 40u);
}

TEST(DamosApply, AddrFilterSplitsAtItsEdgesAndTargetFilterSelects) {
    Scheme p = scheme_of(Action::Cold);
    p.filters = {Filter{FilterType::Addr, true, false, "", 2 * P, 6 * P, 0, 0, 0}};  // reject [2P, 6P)
    DamonContext ctx = context_with({region(0, 8 * P, 0, 9)}, p);
    RecordingOps ops;
    FixedMetrics m;
    ManualClock clock;
    ctx.passed_sample_intervals = 20;
    apply_schemes(ctx, ops, m, clock);
    EXPECT_EQ(ops.applied, (std::vector<std::pair<uint64_t, uint64_t>>{{0, 2 * P}, {6 * P, 8 * P}}));

    p.filters = {Filter{FilterType::Target, true, true, "", 0, 0, 1, 0, 0}};  // allow target 1 only
    ctx = context_with({region(0, 8 * P, 0, 9)}, p);
    ctx.targets.push_back(MonitorTarget{{region(16 * P, 20 * P, 0, 9)}});
    ops.applied.clear();
    ctx.passed_sample_intervals = 20;
    apply_schemes(ctx, ops, m, clock);
    EXPECT_EQ(ops.applied, (std::vector<std::pair<uint64_t, uint64_t>>{{16 * P, 20 * P}}));
}

TEST(DamosWatermarks, DeactivateOutsideHighLowAndReactivateBelowMid) {
    Scheme p = scheme_of(Action::Pageout);
    p.watermarks = Watermarks{WatermarkMetric::FreeMemRate, 5000, 500, 400, 200};
    DamosScheme s = make_scheme(p);
    FixedMetrics m;
    m.free_rate = 600;  // above high: off
    EXPECT_EQ(wmark_wait_us(s, m), 5000u);
    EXPECT_FALSE(s.wmarks_activated);
    m.free_rate = 450;  // between mid and high while off: stays off
    EXPECT_EQ(wmark_wait_us(s, m), 5000u);
    m.free_rate = 300;  // below mid: on
    EXPECT_EQ(wmark_wait_us(s, m), 0u);
    EXPECT_TRUE(s.wmarks_activated);
    m.free_rate = 450;  // between mid and high while on: stays on
    EXPECT_EQ(wmark_wait_us(s, m), 0u);
    m.free_rate = 100;  // below low: off
    EXPECT_EQ(wmark_wait_us(s, m), 5000u);
}

TEST(DamosCore, SchemesRunInTheLoopAndSurviveCommitByIndex) {
    ManualClock clock;
    FixedMetrics m;
    auto ops = std::make_unique<RecordingOps>();
    Scheme stat = scheme_of(Action::Stat);
    DamonCore core(MonitoringAttrs{5000, 100000, 1000000, 3, 100, {}}, {{{0, 64 * P}}}, {stat}, std::move(ops), 1,
                   clock, m);
    core.start();
    for (int i = 0; i < 60; ++i) {
        core.prepare_sample();
        core.finish_sample();
    }
    const DamosStat after_three = core.context().schemes[0].stat;
    EXPECT_GT(after_three.nr_tried, 0u);
    Scheme pageout = scheme_of(Action::Pageout);
    core.commit(core.context().attrs, {{}}, {stat, pageout});
    EXPECT_EQ(core.context().schemes[0].stat, after_three);  // kept
    EXPECT_EQ(core.context().schemes[1].stat, DamosStat{});  // new
    core.commit(core.context().attrs, {{}}, {});
    EXPECT_TRUE(core.context().schemes.empty());
}

TEST(DamosCore, AllSchemesOffByWatermarksMeansWaiting) {
    ManualClock clock;
    FixedMetrics m;
    m.free_rate = 900;
    Scheme p = scheme_of(Action::Pageout);
    p.watermarks = Watermarks{WatermarkMetric::FreeMemRate, 7000, 500, 400, 200};
    DamonCore core(MonitoringAttrs{}, {{{0, 64 * P}}}, {p}, std::make_unique<RecordingOps>(), 1, clock, m);
    core.start();
    EXPECT_EQ(core.activation_wait_us(), 7000u);
    m.free_rate = 300;
    EXPECT_EQ(core.activation_wait_us(), 0u);
}

TEST(IntervalsTuning, GrowsSamplingWhenAccessesAreScarceAndShrinksWhenPlenty) {
    DamonContext ctx;
    ctx.attrs = MonitoringAttrs{5000, 100000, 1000000, 3, 1000, IntervalsGoal{400, 3, 1000, 1000000}};
    ctx.targets = {MonitorTarget{{region(0, 100 * P, 0, 0)}}};
    // No access at all: score 0 -> adaptation 2x (capped by the feed loop).
    tune_intervals(ctx);
    EXPECT_EQ(ctx.attrs.sample_us, 10000u);
    EXPECT_EQ(ctx.attrs.aggr_us, 200000u);  // keeps 20 samples per window

    // Every sample accessed: 25x the 4% goal -> the minimum input, rescaled
    // to halving at most.
    // Tuning runs at a window's end, as kdamond_fn arranges it.
    ctx.targets = {MonitorTarget{{region(0, 100 * P, 20, 0)}}};
    ctx.next_aggregation_sis = ctx.passed_sample_intervals;
    tune_intervals(ctx);
    EXPECT_EQ(ctx.attrs.sample_us, 5000u);

    // Bounded by min_sample_us.
    ctx.attrs.intervals_goal.min_sample_us = 4000;
    ctx.next_aggregation_sis = ctx.passed_sample_intervals;
    tune_intervals(ctx);
    EXPECT_EQ(ctx.attrs.sample_us, 4000u);
    EXPECT_EQ(ctx.attrs.aggr_us, 80000u);
}
