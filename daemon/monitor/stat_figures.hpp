// The figures the kernel's DAMON_STAT module publishes, from one context's
// regions, so that damond can publish the same when it turns DAMON_STAT off
// to take DAMON over (docs/system.md):
//   - memory_idle_ms_percentiles: 101 size-weighted percentiles of "idle
//     time" in ms, where a region not accessed in the last aggregation has
//     been idle (age + 1) aggregations and an accessed one counts as
//     -(age + 1) aggregations (hot for that long), sorted ascending;
//   - estimated_memory_bandwidth: bytes x accesses per aggregation, per second.
// Same definitions as mm/damon/stat.c (Linux 6.17+), so a dashboard reading
// either sees the same shape.
#pragma once

#include <array>
#include <cstdint>

#include "monitor/monitor.hpp"

namespace damond {

struct StatFigures {
    std::array<int64_t, 101> idle_ms_percentiles{};
    uint64_t estimated_memory_bandwidth = 0;  // bytes per second
    uint64_t aggr_interval_us = 0;
    bool operator==(const StatFigures&) const = default;
};

// A region's idle time in ms as DAMON_STAT defines it: (age + 1) aggregations,
// negative when it was accessed in the last complete aggregation.
int64_t idle_ms(const SnapshotRegion& region, uint64_t aggr_us);

// From the regions of the last complete aggregation (last_nr_accesses) of
// every target. All zero without regions or without an aggregation interval.
StatFigures stat_figures(const MonitorSnapshot& snapshot);

}  // namespace damond
