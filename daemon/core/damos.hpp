// DAMOS, following the kernel's mm/damon/core.c: access-pattern matching,
// apply intervals, quotas with prioritisation and goal feedback, watermarks,
// core filters and stats. The action itself is the access source's
// (ops->apply_scheme), as in the kernel.
#pragma once

#include <cstdint>

#include "core/access_source.hpp"
#include "core/clock.hpp"
#include "core/damon_context.hpp"
#include "core/system_metrics.hpp"

namespace damond {

inline constexpr uint32_t kDamosMaxScore = 99;

// A new scheme with its state at zero, as damon_new_scheme makes it.
DamosScheme make_scheme(const Scheme& params);

// damos_set_next_apply_sis
void set_next_apply_sis(DamosScheme& s, const DamonContext& ctx);

// __damos_valid_target: the region matches the scheme's access pattern.
bool matches_access_pattern(const Region& r, const DamosScheme& s);

// damon_hot_score / damon_cold_score (ops-common.c), 0..kDamosMaxScore.
uint32_t hot_score(const DamonContext& ctx, const Region& r, const DamosScheme& s);
uint32_t cold_score(const DamonContext& ctx, const Region& r, const DamosScheme& s);

// damon_feed_loop_next_input: the next input to move a score toward 10000.
uint64_t feed_loop_next_input(uint64_t last_input, uint64_t score);

// damos_set_effective_quota: esz for a new charge window.
void set_effective_quota(DamosScheme& s, SystemMetrics& metrics);

// damos_adjust_quota: open a new charge window when due, then set min_score
// so only the highest-priority esz bytes qualify.
void adjust_quota(DamonContext& ctx, DamosScheme& s, AccessSource& ops, SystemMetrics& metrics, uint64_t now_us);

// damos_wmark_wait_us: 0 if the scheme is active, else how long to wait
// before checking its watermarks again.
uint64_t wmark_wait_us(DamosScheme& s, SystemMetrics& metrics);

// damos_core_filter_out: the addr and target filters; may split the region
// at a filter's edge.
bool core_filter_out(DamonContext& ctx, size_t target, size_t region, const DamosScheme& s);

// kdamond_apply_schemes: apply every scheme whose apply interval is due.
void apply_schemes(DamonContext& ctx, AccessSource& ops, SystemMetrics& metrics, const Clock& clock);

}  // namespace damond
