// What damond runs in DAMON_STAT's place when it turns the module off to take
// DAMON over: a paddr context set up as mm/damon/stat.c sets its own up, so
// the figures it serves (monitor/stat_figures.hpp) mean what the module's did.
#pragma once

#include <optional>
#include <string>

#include "core/addr_range.hpp"
#include "spec/context_spec.hpp"

namespace damond {

inline constexpr const char* kSystemStatContext = "system-stat";

// Sampling 5 ms and aggregation 100 ms to start, tuned for 4 % of the
// observable accesses per 3 aggregations within a 5 ms - 10 s sampling
// interval; 10 to 1000 regions; the biggest System RAM range.
ContextSpec damon_stat_stand_in(const AddrRange& system_ram);

}  // namespace damond
