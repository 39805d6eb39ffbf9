// Snapshots for the reclaim's tests, written as a table.
#pragma once

#include <cstdint>
#include <vector>

#include "monitor/monitor.hpp"

namespace damond::testing {

// One target; regions as {start MiB, end MiB, accesses, age}; 1 s aggregations.
inline MonitorSnapshot regions_snapshot(const std::vector<std::vector<uint64_t>>& regions,
                                        uint64_t aggregations = 100) {
    constexpr uint64_t kMiB = 1 << 20;
    MonitorSnapshot s;
    s.aggr_us = 1000000;
    s.nr_aggregations = aggregations;
    s.targets.emplace_back();
    for (const auto& r : regions) {
        SnapshotRegion region;
        region.start = r[0] * kMiB;
        region.end = r[1] * kMiB;
        region.last_nr_accesses = static_cast<uint32_t>(r[2]);
        region.age = static_cast<uint32_t>(r[3]);
        s.targets.back().push_back(region);
    }
    return s;
}

}  // namespace damond::testing
