// Keyword tables for the spec's enums: the same keywords the kernel's sysfs
// files accept, plus damond's in-process ops.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <utility>

#include "spec/context_spec.hpp"

namespace damond {

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, const char*>, N>;

inline constexpr NameTable<Ops, 7> kOpsNames{{
    {Ops::Vaddr, "vaddr"},
    {Ops::Fvaddr, "fvaddr"},
    {Ops::Paddr, "paddr"},
    {Ops::Synthetic, "synthetic"},
    {Ops::Refs, "refs"},
    {Ops::PageIdle, "page_idle"},
    {Ops::SoftDirty, "soft_dirty"},
}};

inline constexpr NameTable<Action, 11> kActionNames{{
    {Action::Willneed, "willneed"},
    {Action::Cold, "cold"},
    {Action::Pageout, "pageout"},
    {Action::Hugepage, "hugepage"},
    {Action::Nohugepage, "nohugepage"},
    {Action::Collapse, "collapse"},
    {Action::LruPrio, "lru_prio"},
    {Action::LruDeprio, "lru_deprio"},
    {Action::MigrateHot, "migrate_hot"},
    {Action::MigrateCold, "migrate_cold"},
    {Action::Stat, "stat"},
}};

inline constexpr NameTable<FilterType, 8> kFilterTypeNames{{
    {FilterType::Addr, "addr"},
    {FilterType::Target, "target"},
    {FilterType::Anon, "anon"},
    {FilterType::Active, "active"},
    {FilterType::Memcg, "memcg"},
    {FilterType::Young, "young"},
    {FilterType::HugepageSize, "hugepage_size"},
    {FilterType::Unmapped, "unmapped"},
}};

inline constexpr NameTable<GoalMetric, 9> kGoalMetricNames{{
    {GoalMetric::UserInput, "user_input"},
    {GoalMetric::SomeMemPsiUs, "some_mem_psi_us"},
    {GoalMetric::NodeMemUsedBp, "node_mem_used_bp"},
    {GoalMetric::NodeMemFreeBp, "node_mem_free_bp"},
    {GoalMetric::NodeMemcgUsedBp, "node_memcg_used_bp"},
    {GoalMetric::NodeMemcgFreeBp, "node_memcg_free_bp"},
    {GoalMetric::ActiveMemBp, "active_mem_bp"},
    {GoalMetric::InactiveMemBp, "inactive_mem_bp"},
    {GoalMetric::NodeEligibleMemBp, "node_eligible_mem_bp"},
}};

inline constexpr NameTable<WatermarkMetric, 2> kWatermarkMetricNames{{
    {WatermarkMetric::None, "none"},
    {WatermarkMetric::FreeMemRate, "free_mem_rate"},
}};

template <typename E, size_t N>
const char* name_of(const NameTable<E, N>& table, E value) {
    for (const auto& [v, name] : table)
        if (v == value) return name;
    return "?";
}

template <typename E, size_t N>
std::optional<E> value_of(const NameTable<E, N>& table, const std::string& name) {
    for (const auto& [v, n] : table)
        if (name == n) return v;
    return std::nullopt;
}

// "a, b or c": the keywords a table accepts, for error messages.
template <typename E, size_t N>
std::string names_list(const NameTable<E, N>& table) {
    std::string out;
    for (size_t i = 0; i < N; ++i) {
        if (i) out += (i + 1 == N) ? " or " : ", ";
        out += table[i].second;
    }
    return out;
}

}  // namespace damond
