// What damond runs in DAMON_STAT's place when it turns the module off to take
// DAMON over: a paddr context set up as mm/damon/stat.c sets its own up, so
// the figures it serves (monitor/stat_figures.hpp) mean what the module's did.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/addr_range.hpp"
#include "spec/context_spec.hpp"

namespace damond {

inline constexpr const char* kSystemStatContext = "system-stat";

// The module tunes its sampling interval up to 10 s (aggregations of 200 s
// on an idle machine). damond reads the regions through sysfs, and the read
// holds the kernel's DAMON sysfs lock - every kdamond's - until the walked
// kdamond's next aggregation: at 10 s no app could switch for minutes. At
// 25 ms an aggregation lasts at most 0.5 s. Idle times (age x aggregation)
// mean the same; the estimated bandwidth, sample hits per second, reads
// higher at a shorter interval (docs/system.md).
inline constexpr uint64_t kStandInMaxSampleUs = 25000;

// Sampling 5 ms and aggregation 100 ms to start, tuned for 4 % of the
// observable accesses per 3 aggregations within a 5 ms - 25 ms sampling
// interval; 10 to 1000 regions; the biggest System RAM range. A kernel
// without interval tuning (before 6.15, no DAMON_STAT there either:
// "system_stat": "always") gets the intervals the tuner settles at on a
// mostly idle machine, 25 ms and 0.5 s.
ContextSpec damon_stat_stand_in(const AddrRange& system_ram, bool kernel_tunes_intervals = true);

}  // namespace damond
