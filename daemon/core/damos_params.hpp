// DAMOS scheme parameters and the DAMON vocabulary shared by the core and
// the spec: what a user asks of a scheme, named as the kernel's sysfs files.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/addr_range.hpp"

namespace damond {

// The kernel stores nr_accesses and age as u32 even though sysfs takes ulong.
inline constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();
inline constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

enum class Action {
    Willneed,
    Cold,
    Pageout,
    Hugepage,
    Nohugepage,
    Collapse,
    LruPrio,
    LruDeprio,
    MigrateHot,
    MigrateCold,
    Stat,
};

enum class FilterType { Addr, Target, Anon, Active, Memcg, Young, HugepageSize, Unmapped };

enum class GoalMetric {
    UserInput,
    SomeMemPsiUs,
    NodeMemUsedBp,
    NodeMemFreeBp,
    NodeMemcgUsedBp,
    NodeMemcgFreeBp,
    ActiveMemBp,
    InactiveMemBp,
    NodeEligibleMemBp,
};

enum class WatermarkMetric { None, FreeMemRate };

struct MinMax {
    uint64_t min = 0;
    uint64_t max = 0;
    bool operator==(const MinMax&) const = default;
};

struct IntervalsGoal {
    uint64_t access_bp = 0;
    uint64_t aggrs = 0;  // 0 disables intervals auto-tuning
    uint64_t min_sample_us = 0;
    uint64_t max_sample_us = 0;
    bool operator==(const IntervalsGoal&) const = default;
};

struct AccessPattern {
    MinMax sz{0, kU64Max};
    MinMax nr_accesses{0, kU32Max};
    MinMax age{0, kU32Max};
    bool operator==(const AccessPattern&) const = default;
};

struct QuotaGoal {
    GoalMetric target_metric = GoalMetric::UserInput;
    uint64_t target_value = 0;
    uint64_t current_value = 0;
    int64_t nid = 0;
    std::string path;  // memcg path for node_memcg_* metrics
    bool operator==(const QuotaGoal&) const = default;
};

struct QuotaWeights {
    uint64_t sz_permil = 0;
    uint64_t nr_accesses_permil = 0;
    uint64_t age_permil = 0;
    bool operator==(const QuotaWeights&) const = default;
};

struct Quotas {
    uint64_t ms = 0;
    uint64_t bytes = 0;
    uint64_t reset_interval_ms = 0;
    QuotaWeights weights;
    std::vector<QuotaGoal> goals;
    bool operator==(const Quotas&) const = default;
};

struct Watermarks {
    WatermarkMetric metric = WatermarkMetric::None;
    uint64_t interval_us = 0;
    uint64_t high = 0;
    uint64_t mid = 0;
    uint64_t low = 0;
    bool operator==(const Watermarks&) const = default;
};

// One list for core (addr, target) and ops filters: the kernel backend routes
// each to core_filters/ or ops_filters/ by type, keeping their order.
struct Filter {
    FilterType type = FilterType::Anon;
    bool matching = true;
    bool allow = false;
    std::string memcg_path;
    uint64_t addr_start = 0;
    uint64_t addr_end = 0;
    uint64_t damon_target_idx = 0;
    uint64_t min = 0;  // hugepage_size
    uint64_t max = 0;
    bool operator==(const Filter&) const = default;
};

struct Scheme {
    Action action = Action::Stat;
    AccessPattern access_pattern;
    uint64_t apply_interval_us = 0;  // 0: the aggregation interval
    Quotas quotas;
    Watermarks watermarks;
    std::vector<Filter> filters;
    int64_t target_nid = -1;
    bool operator==(const Scheme&) const = default;
};

const char* to_string(Action action);
const char* to_string(FilterType type);
const char* to_string(GoalMetric metric);
const char* to_string(WatermarkMetric metric);

}  // namespace damond
