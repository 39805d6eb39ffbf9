// The monitoring state of one context, as the kernel's struct damon_ctx holds
// it: attributes, targets with their regions, and the sample-interval counters
// that drive aggregation and ops updates. Plain data; the logic lives in
// damon_core.
#pragma once

#include <cstdint>
#include <vector>

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
    bool operator==(const MonitoringAttrs&) const = default;
};

struct Region {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t sampling_addr = 0;
    uint32_t nr_accesses = 0;       // positive samples in the current aggregation window
    uint32_t last_nr_accesses = 0;  // the previous window's count
    uint32_t age = 0;               // aggregation windows the access pattern has held

    uint64_t size() const { return end - start; }
    bool operator==(const Region&) const = default;
};

struct MonitorTarget {
    std::vector<Region> regions;
    bool operator==(const MonitorTarget&) const = default;
};

struct DamonContext {
    MonitoringAttrs attrs;
    std::vector<MonitorTarget> targets;
    Rng rng;
    uint64_t passed_sample_intervals = 0;
    uint64_t next_aggregation_sis = 0;
    uint64_t next_ops_update_sis = 0;
    uint64_t nr_aggregations = 0;
    // The kernel keeps this as a function-static shared by all contexts;
    // per context is what it means to do.
    uint64_t last_nr_regions_at_split = 0;

    bool operator==(const DamonContext&) const = default;
};

}  // namespace damond
