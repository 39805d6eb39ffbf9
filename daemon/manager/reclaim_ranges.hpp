// Which of an app's memory to page out when it has gone to the background:
// what neither of its phases uses. Both contexts watch the same processes,
// each with its own regions and ages; a range is chosen only where it has
// been idle in both for long enough, so the foreground context's hot (or
// merely recent) ranges are never chosen. Pure: two snapshots in, ranges out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "monitor/monitor.hpp"

namespace damond {

struct ReclaimRule {
    uint64_t min_idle_us = 60000000;  // idle at least this long in each context
    uint64_t min_aggregations = 10;   // a context that aggregated fewer times has not learned enough
    uint64_t max_bytes = 0;           // at most this much per reclaim (the oldest first); 0: no limit
    uint64_t page_size = 4096;        // ranges are whole pages
};

struct ReclaimRange {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t idle_us = 0;  // the shorter of its two idle times
    bool operator==(const ReclaimRange&) const = default;
};

struct ReclaimChoice {
    // Per target (process), in the snapshots' target order, address order within.
    std::vector<std::vector<ReclaimRange>> targets;
    uint64_t bytes = 0;
    // Why nothing was chosen at all ("" when something may have been): a
    // context that has not learned enough, targets that do not match.
    std::string refused;
};

// Idle in a context: no access in its last complete aggregation, for at
// least `min_idle_us` by its age (aggregations at that access level) times
// its aggregation interval. `within`, when given: per target, the only
// ranges that may be chosen (a process's anonymous memory), applied before
// `max_bytes` so the limit is spent on what can be paged out.
ReclaimChoice choose_reclaim_ranges(const MonitorSnapshot& foreground, const MonitorSnapshot& background,
                                    const ReclaimRule& rule,
                                    const std::vector<std::vector<ReclaimRange>>* within = nullptr);

// The parts of `ranges` inside `within` (both in address order, each
// without overlaps), keeping each part's idle time.
std::vector<ReclaimRange> clip_ranges(const std::vector<ReclaimRange>& ranges, const std::vector<ReclaimRange>& within);

}  // namespace damond
