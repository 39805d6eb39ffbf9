// The monitoring state of one context, as the kernel's struct damon_ctx holds
// it: attributes, targets with their regions, and the sample-interval counters
// that drive aggregation and ops updates. Plain data; the logic lives in
// damon_core.
#pragma once

#include <cstdint>
#include <vector>

#include "core/damos_params.hpp"
#include "core/rng.hpp"

namespace damond {

// The kernel's DAMON_MIN_REGION: regions are page-aligned and at least a page.
inline constexpr uint64_t kMinRegionSize = 4096;

struct MonitoringAttrs {
    uint64_t sample_us = 5000;
    uint64_t aggr_us = 100000;
    uint64_t update_us = 60000000;
    uint64_t min_nr_regions = 10;
    uint64_t max_nr_regions = 1000;
    IntervalsGoal intervals_goal;
    bool operator==(const MonitoringAttrs&) const = default;

    // Samples per aggregation window (the kernel's aggr_samples).
    uint64_t aggr_samples() const { return aggr_us / (sample_us ? sample_us : 1); }
};

struct Region {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t sampling_addr = 0;
    uint32_t nr_accesses = 0;       // positive samples in the current aggregation window
    uint32_t nr_accesses_bp = 0;    // pseudo moving sum over a window, x10000: what DAMOS matches on
    uint32_t last_nr_accesses = 0;  // the previous window's count
    uint32_t age = 0;               // aggregation windows the access pattern has held

    uint64_t size() const { return end - start; }
    bool operator==(const Region&) const = default;
};

struct MonitorTarget {
    std::vector<Region> regions;
    bool operator==(const MonitorTarget&) const = default;
};

struct DamosStat {
    uint64_t nr_tried = 0;
    uint64_t sz_tried = 0;
    uint64_t nr_applied = 0;
    uint64_t sz_applied = 0;
    uint64_t sz_ops_filter_passed = 0;
    uint64_t qt_exceeds = 0;
    bool operator==(const DamosStat&) const = default;
};

// The quota's running state, as struct damos_quota keeps it beside the
// user's parameters. Times are microseconds of the core's clock.
struct DamosQuotaState {
    uint64_t esz = 0;     // effective size quota of this charge window
    uint64_t esz_bp = 0;  // feedback tuner's state, x10000
    uint64_t charged_sz = 0;
    bool charge_window_open = false;
    uint64_t charged_from_us = 0;
    uint64_t total_charged_sz = 0;
    uint64_t total_charged_ns = 0;
    bool charge_cursor = false;  // resume the next window after the last charged region
    size_t charge_target_from = 0;
    uint64_t charge_addr_from = 0;
    uint32_t min_score = 0;
    bool operator==(const DamosQuotaState&) const = default;
};

struct DamosGoalState {
    uint64_t current_value = 0;
    uint64_t last_psi_total = 0;
    bool operator==(const DamosGoalState&) const = default;
};

struct DamosScheme {
    Scheme params;
    DamosQuotaState quota;
    std::vector<DamosGoalState> goals;  // one per params.quotas.goals
    bool wmarks_activated = true;
    DamosStat stat;
    uint64_t next_apply_sis = 0;
    // Regions the action was tried on in the last finished apply pass, and
    // in the pass under way.
    std::vector<Region> tried_regions;
    std::vector<Region> trying_regions;
    bool operator==(const DamosScheme&) const = default;
};

// Arithmetic shared by the core's rules and DAMOS.

inline uint64_t align_down_to_page(uint64_t v) { return v / kMinRegionSize * kMinRegionSize; }

// damon_max_nr_accesses: samples per aggregation window.
inline uint64_t max_nr_accesses(const MonitoringAttrs& a) {
    return a.aggr_samples() < UINT32_MAX ? a.aggr_samples() : UINT32_MAX;
}

// The kernel's mult_frac: x * n / d without overflowing x * n.
inline uint64_t mult_frac(uint64_t x, uint64_t n, uint64_t d) { return x / d * n + x % d * n / d; }

// damon_split_region_at: the new right piece inherits the access history.
inline void split_region_at(std::vector<Region>& regions, size_t idx, uint64_t sz_left) {
    Region right = regions[idx];
    right.start = regions[idx].start + sz_left;
    regions[idx].end = right.start;
    regions.insert(regions.begin() + static_cast<std::ptrdiff_t>(idx) + 1, right);
}

struct DamonContext {
    MonitoringAttrs attrs;
    std::vector<MonitorTarget> targets;
    std::vector<DamosScheme> schemes;
    Rng rng;
    uint64_t passed_sample_intervals = 0;
    uint64_t next_aggregation_sis = 0;
    uint64_t next_ops_update_sis = 0;
    uint64_t next_intervals_tune_sis = 0;
    uint64_t nr_aggregations = 0;
    // The kernel keeps this as a function-static shared by all contexts;
    // per context is what it means to do.
    uint64_t last_nr_regions_at_split = 0;

    bool operator==(const DamonContext&) const = default;
};

}  // namespace damond
