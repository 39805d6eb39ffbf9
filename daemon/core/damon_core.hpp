// The DAMON monitoring algorithm, following the kernel's mm/damon/core.c:
// sampling, aggregation, adaptive region merge and split, age, intervals
// auto-tuning and DAMOS. The caller says when a sampling interval starts and
// ends, and hands it the clock and system figures it may read, which makes it
// deterministic under a seed and testable on a virtual clock.
#pragma once

#include <memory>
#include <vector>

#include "core/access_source.hpp"
#include "core/addr_range.hpp"
#include "core/clock.hpp"
#include "core/damon_context.hpp"
#include "core/system_metrics.hpp"

namespace damond {

using TargetRanges = std::vector<AddrRange>;

class DamonCore {
public:
    DamonCore(MonitoringAttrs attrs, std::vector<TargetRanges> targets, std::vector<Scheme> schemes,
              std::unique_ptr<AccessSource> source, uint64_t seed, const Clock& clock, SystemMetrics& metrics);

    // kdamond_fn's set-up: initial regions, then the sample-interval counters.
    // With `warm` (one region list per target, as an earlier run left them),
    // those regions with their counts and ages replace the initial ones: a
    // warm start from a checkpoint.
    void start(const std::vector<MonitorTarget>* warm = nullptr);
    // The start of a sampling interval: ops->prepare_access_checks.
    void prepare_sample();
    // The end of one: count accesses and, when due, aggregate (merge, age),
    // apply schemes, tune the intervals, reset, split and run the ops update,
    // in kdamond_fn's order.
    void finish_sample();
    // kdamond_wait_activation: 0 to sample now, or how long to wait because
    // every scheme is deactivated by its watermarks.
    uint64_t activation_wait_us();
    // kdamond_need_stop: every target is gone.
    bool all_targets_gone();
    // damon_commit_ctx: schemes and targets are matched by index and keep
    // their state; regions are kept wherever the kernel keeps them; an empty
    // range list keeps a target's regions as they are.
    void commit(const MonitoringAttrs& attrs, const std::vector<TargetRanges>& targets,
                const std::vector<Scheme>& schemes);

    const DamonContext& context() const { return ctx_; }
    AccessSource& source() { return *source_; }

private:
    DamonContext ctx_;
    std::vector<TargetRanges> initial_ranges_;
    std::unique_ptr<AccessSource> source_;
    const Clock& clock_;
    SystemMetrics& metrics_;
};

// damon_update_region_access_rate: one sample's result for a region.
void update_region_access_rate(Region& r, bool accessed, const MonitoringAttrs& attrs);
// kdamond_tune_intervals: move sample_us (and aggr_us with it) toward
// intervals_goal.access_bp of the possible access events.
void tune_intervals(DamonContext& ctx);

// The rules, one function each like core.c, exposed for unit tests.

// damon_region_sz_limit: the largest region a merge may produce.
uint64_t region_sz_limit(const DamonContext& ctx);
// damon_merge_regions_of: update ages, then merge similar neighbours.
void merge_regions_of(MonitorTarget& t, uint32_t threshold, uint64_t sz_limit);
// kdamond_merge_regions: merge, raising the threshold while over max_nr_regions.
void merge_regions(DamonContext& ctx, uint32_t threshold, uint64_t sz_limit);
// kdamond_reset_aggregated: close the aggregation window.
void reset_aggregated(DamonContext& ctx);
// damon_split_regions_of: split each region into nr_subs random pieces.
void split_regions_of(MonitorTarget& t, int nr_subs, Rng& rng);
// kdamond_split_regions: split only while few regions exist.
void split_regions(DamonContext& ctx);
// damon_set_regions: fit a target's regions to new ranges.
void set_regions(MonitorTarget& t, const TargetRanges& ranges);
// damon_apply_min_nr_regions: split regions larger than the size limit.
void apply_min_nr_regions(DamonContext& ctx);
// damon_set_attrs: new intervals; rescale nr_accesses and age to them.
void set_attrs(DamonContext& ctx, const MonitoringAttrs& attrs);

}  // namespace damond
