// What DAMON sees of one context, as the few figures an operator or a fleet
// dashboard reads: how much is monitored, how much of it was accessed in the
// last aggregation (the working set), and for how long the rest has gone
// unaccessed, as size-weighted percentiles (as DAMON_STAT reports them).
// Computed from the regions of one aggregation: at each aggregation on
// damond's core, at each read-back on the kernel.
#pragma once

#include <cstdint>
#include <vector>

#include "core/damon_context.hpp"
#include "monitor/monitor.hpp"

namespace damond {

struct ContextFigures {
    uint64_t monitored_bytes = 0;
    uint64_t working_set_bytes = 0;  // in regions accessed in the last aggregation
    // Idle time: age x aggregation interval of a region not accessed in the
    // last aggregation, 0 for one that was; the value below which that share
    // of the monitored bytes lies.
    uint64_t idle_p50_us = 0;
    uint64_t idle_p90_us = 0;
    uint64_t idle_p99_us = 0;
    uint64_t nr_regions = 0;
    uint64_t nr_aggregations = 0;
    uint64_t nr_samples = 0;
    uint64_t sample_us = 0;  // live: auto-tuning may have moved them
    uint64_t aggr_us = 0;
    std::vector<SchemeStats> schemes;
    bool operator==(const ContextFigures&) const = default;
};

// Gathers regions one at a time, so the core can feed its own regions
// without copying them; reuse one to keep its buffer.
class FiguresBuilder {
public:
    void reset(uint64_t aggr_us);
    void add_region(uint64_t size, bool accessed, uint32_t age);
    // Fills the region figures of `out` (counts, intervals and schemes are
    // the caller's).
    void finish(ContextFigures& out);

private:
    struct Idle {
        uint64_t idle_us;
        uint64_t bytes;
    };
    uint64_t aggr_us_ = 0;
    uint64_t monitored_ = 0, accessed_ = 0, regions_ = 0;
    std::vector<Idle> idle_;
};

ContextFigures figures_of(const MonitorSnapshot& snapshot);
// From the core's own state, at an aggregation: what damond's core publishes.
void figures_of(const DamonContext& ctx, uint64_t nr_samples, FiguresBuilder& builder, ContextFigures& out);

}  // namespace damond
