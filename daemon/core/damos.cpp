#include "core/damos.hpp"

#include <algorithm>
#include <array>

namespace damond {

namespace {

constexpr uint64_t kMaxSubscore = 100;
constexpr int kMaxAgeInLog = 32;
uint64_t align_down(uint64_t v) { return align_down_to_page(v); }

bool is_core_filter(FilterType t) { return t == FilterType::Addr || t == FilterType::Target; }

bool due(const DamonContext& ctx, const DamosScheme& s) { return ctx.passed_sample_intervals >= s.next_apply_sis; }

bool quota_limited(const Quotas& q) { return q.ms || q.bytes || !q.goals.empty(); }

// damos_quota_score: the highest goal achievement, which makes the scheme
// least aggressive. Refreshes each goal's current value on the way.
uint64_t quota_score(DamosScheme& s, SystemMetrics& metrics) {
    uint64_t highest = 0;
    s.goals.resize(s.params.quotas.goals.size());
    for (size_t i = 0; i < s.params.quotas.goals.size(); ++i) {
        const QuotaGoal& g = s.params.quotas.goals[i];
        DamosGoalState& st = s.goals[i];
        switch (g.target_metric) {
        case GoalMetric::UserInput: st.current_value = g.current_value; break;
        case GoalMetric::SomeMemPsiUs: {
            const uint64_t now_total = metrics.some_mem_psi_total_us();
            st.current_value = now_total - st.last_psi_total;
            st.last_psi_total = now_total;
            break;
        }
        default: st.current_value = metrics.goal_metric(g).value_or(0); break;
        }
        highest = std::max(highest, mult_frac(st.current_value, 10000, g.target_value));
    }
    return highest;
}

// damos_skip_charged_region: after a quota ran out mid-walk, the next window
// starts after the last charged region rather than at the beginning again.
bool skip_charged_region(DamonContext& ctx, size_t ti, size_t ri, DamosScheme& s) {
    DamosQuotaState& q = s.quota;
    if (!q.charge_cursor) return false;
    std::vector<Region>& regions = ctx.targets[ti].regions;
    const Region& r = regions[ri];
    if (ti != q.charge_target_from) return true;
    if (ri + 1 == regions.size()) {
        q.charge_cursor = false;
        q.charge_addr_from = 0;
        return true;
    }
    if (q.charge_addr_from && r.end <= q.charge_addr_from) return true;
    if (q.charge_addr_from && r.start < q.charge_addr_from) {
        uint64_t sz_to_skip = align_down(q.charge_addr_from - r.start);
        if (!sz_to_skip) {
            if (r.size() <= kMinRegionSize) return true;
            sz_to_skip = kMinRegionSize;
        }
        split_region_at(regions, ri, sz_to_skip);
        return true;
    }
    q.charge_cursor = false;
    q.charge_addr_from = 0;
    return false;
}

void update_stat(DamosScheme& s, uint64_t sz_tried, uint64_t sz_applied, uint64_t sz_ops_filter_passed) {
    s.stat.nr_tried++;
    s.stat.sz_tried += sz_tried;
    if (sz_applied) s.stat.nr_applied++;
    s.stat.sz_applied += sz_applied;
    s.stat.sz_ops_filter_passed += sz_ops_filter_passed;
}

// damos_valid_target: the access pattern, then the quota's priority cut.
bool valid_target(const DamonContext& ctx, const Region& r, const DamosScheme& s, AccessSource& ops) {
    if (!matches_access_pattern(r, s)) return false;
    if (!s.quota.esz) return true;
    return ops.scheme_score(ctx, r, s) >= s.quota.min_score;
}

void apply_scheme(DamonContext& ctx, size_t ti, size_t ri, DamosScheme& s, AccessSource& ops, const Clock& clock) {
    DamosQuotaState& q = s.quota;
    std::vector<Region>& regions = ctx.targets[ti].regions;
    uint64_t sz = regions[ri].size();
    uint64_t sz_applied = 0, sz_ops_filter_passed = 0;

    if (q.esz && q.charged_sz + sz > q.esz) {
        // Only what is left of the quota: split, act on the left piece.
        sz = align_down(q.esz - q.charged_sz);
        if (!sz) {
            update_stat(s, sz, 0, 0);
            return;
        }
        split_region_at(regions, ri, sz);
    }
    if (core_filter_out(ctx, ti, ri, s)) return;
    const uint64_t begin = clock.now_us();
    sz_applied = ops.apply_scheme(ctx, ti, regions[ri], s, sz_ops_filter_passed);
    const uint64_t end = clock.now_us();
    s.trying_regions.push_back(regions[ri]);
    q.total_charged_ns += (end - begin) * 1000;
    q.charged_sz += sz;
    if (q.esz && q.charged_sz >= q.esz) {
        q.charge_cursor = true;
        q.charge_target_from = ti;
        q.charge_addr_from = regions[ri].end + 1;
    }
    // Acting on a region changes its access pattern: its age starts over.
    if (s.params.action != Action::Stat) regions[ri].age = 0;
    update_stat(s, sz, sz_applied, sz_ops_filter_passed);
}

void do_apply_schemes(DamonContext& ctx, size_t ti, size_t ri, AccessSource& ops, const Clock& clock) {
    for (DamosScheme& s : ctx.schemes) {
        if (!due(ctx, s) || !s.wmarks_activated) continue;
        if (s.quota.esz && s.quota.charged_sz >= s.quota.esz) continue;
        if (skip_charged_region(ctx, ti, ri, s)) continue;
        if (valid_target(ctx, ctx.targets[ti].regions[ri], s, ops)) apply_scheme(ctx, ti, ri, s, ops, clock);
    }
}

// damos_filters_default_reject: with no filter matching, the verdict is the
// opposite of the last filter's.
bool core_filters_default_reject(const DamosScheme& s) {
    bool has_ops = false;
    const Filter* last_core = nullptr;
    for (const Filter& f : s.params.filters) {
        if (is_core_filter(f.type))
            last_core = &f;
        else
            has_ops = true;
    }
    if (has_ops || !last_core) return false;
    return last_core->allow;
}

// damos_filter_match for the core filter types.
bool filter_match(DamonContext& ctx, size_t ti, size_t ri, const Filter& f) {
    bool matched = false;
    std::vector<Region>& regions = ctx.targets[ti].regions;
    const Region r = regions[ri];
    if (f.type == FilterType::Target) {
        matched = ti == f.damon_target_idx;
    } else {
        const uint64_t start = align_down(f.addr_start), end = align_down(f.addr_end);
        if (start <= r.start && r.end <= end) {
            matched = true;
        } else if (r.end <= start || end <= r.start) {
            matched = false;
        } else if (r.start < start) {
            split_region_at(regions, ri, start - r.start);  // the part before the range
            matched = false;
        } else {
            split_region_at(regions, ri, end - r.start);  // the part inside the range
            matched = true;
        }
    }
    return matched == f.matching;
}

}  // namespace

DamosScheme make_scheme(const Scheme& params) {
    DamosScheme s;
    s.params = params;
    s.goals.resize(params.quotas.goals.size());
    return s;
}

void set_next_apply_sis(DamosScheme& s, const DamonContext& ctx) {
    const uint64_t sample = ctx.attrs.sample_us ? ctx.attrs.sample_us : 1;
    const uint64_t interval = s.params.apply_interval_us ? s.params.apply_interval_us : ctx.attrs.aggr_us;
    s.next_apply_sis = ctx.passed_sample_intervals + interval / sample;
}

bool matches_access_pattern(const Region& r, const DamosScheme& s) {
    const AccessPattern& p = s.params.access_pattern;
    const uint64_t nr_accesses = r.nr_accesses_bp / 10000;
    return p.sz.min <= r.size() && r.size() <= p.sz.max && p.nr_accesses.min <= nr_accesses &&
           nr_accesses <= p.nr_accesses.max && p.age.min <= r.age && r.age <= p.age.max;
}

uint32_t hot_score(const DamonContext& ctx, const Region& r, const DamosScheme& s) {
    const uint64_t freq_weight = s.params.quotas.weights.nr_accesses_permil;
    const uint64_t age_weight = s.params.quotas.weights.age_permil;
    const uint64_t max_nr = std::max<uint64_t>(max_nr_accesses(ctx.attrs), 1);
    const int64_t freq_subscore = static_cast<int64_t>(uint64_t{r.nr_accesses} * kMaxSubscore / max_nr);

    uint64_t age_in_sec = uint64_t{r.age} * ctx.attrs.aggr_us / 1000000;
    int64_t age_in_log = 0;
    for (; age_in_log < kMaxAgeInLog && age_in_sec; age_in_log++, age_in_sec >>= 1) {
    }
    // Without accesses, a higher age means colder.
    if (freq_subscore == 0) age_in_log = -age_in_log;
    age_in_log += kMaxAgeInLog;
    const int64_t age_subscore = age_in_log * static_cast<int64_t>(kMaxSubscore) / kMaxAgeInLog / 2;

    int64_t hotness =
        static_cast<int64_t>(freq_weight) * freq_subscore + static_cast<int64_t>(age_weight) * age_subscore;
    if (freq_weight + age_weight) hotness /= static_cast<int64_t>(freq_weight + age_weight);
    hotness = hotness * kDamosMaxScore / static_cast<int64_t>(kMaxSubscore);
    return static_cast<uint32_t>(std::clamp<int64_t>(hotness, 0, kDamosMaxScore));
}

uint32_t cold_score(const DamonContext& ctx, const Region& r, const DamosScheme& s) {
    return kDamosMaxScore - hot_score(ctx, r, s);
}

uint32_t AccessSource::scheme_score(const DamonContext& ctx, const Region& r, const DamosScheme& s) {
    if (s.params.action == Action::Pageout) return cold_score(ctx, r, s);
    return kDamosMaxScore;
}

uint64_t feed_loop_next_input(uint64_t last_input, uint64_t score) {
    const uint64_t goal = 10000;
    const uint64_t min_input = 10000;  // never let the compensation reach zero
    if (score == goal) return last_input;
    if (score >= goal * 2) return min_input;
    const bool over_achieving = score > goal;
    const uint64_t diff = over_achieving ? score - goal : goal - score;
    const uint64_t compensation = last_input < kU64Max / diff ? last_input * diff / goal : last_input / goal * diff;
    if (over_achieving) return last_input > compensation ? std::max(last_input - compensation, min_input) : min_input;
    return last_input < kU64Max - compensation ? last_input + compensation : kU64Max;
}

void set_effective_quota(DamosScheme& s, SystemMetrics& metrics) {
    const Quotas& p = s.params.quotas;
    DamosQuotaState& q = s.quota;
    if (!p.ms && p.goals.empty()) {
        q.esz = p.bytes;
        return;
    }
    uint64_t esz = kU64Max;
    if (!p.goals.empty()) {
        q.esz_bp = feed_loop_next_input(std::max<uint64_t>(q.esz_bp, 10000), quota_score(s, metrics));
        esz = q.esz_bp / 10000;
    }
    if (p.ms) {
        // Bytes per millisecond the action has managed so far; a page per
        // microsecond until there is a measurement.
        const uint64_t throughput =
            q.total_charged_ns ? mult_frac(q.total_charged_sz, 1000000, q.total_charged_ns) : kMinRegionSize * 1024;
        const uint64_t by_time = p.ms > kU64Max / std::max<uint64_t>(throughput, 1) ? kU64Max : throughput * p.ms;
        esz = std::min(by_time, esz);
    }
    if (p.bytes && p.bytes < esz) esz = p.bytes;
    q.esz = esz;
}

void adjust_quota(DamonContext& ctx, DamosScheme& s, AccessSource& ops, SystemMetrics& metrics, uint64_t now_us) {
    const Quotas& p = s.params.quotas;
    DamosQuotaState& q = s.quota;
    if (!quota_limited(p)) return;

    if (!q.total_charged_sz && !q.charge_window_open) {
        q.charge_window_open = true;
        q.charged_from_us = now_us;
        set_effective_quota(s, metrics);
    }
    if (now_us >= q.charged_from_us + p.reset_interval_ms * 1000) {
        if (q.esz && q.charged_sz >= q.esz) s.stat.qt_exceeds++;
        q.total_charged_sz += q.charged_sz;
        q.charged_from_us = now_us;
        q.charged_sz = 0;
        set_effective_quota(s, metrics);
    }

    // Size of the matching regions at each priority score, then the lowest
    // score that still fits in esz.
    std::array<uint64_t, kDamosMaxScore + 1> histogram{};
    uint32_t max_score = 0;
    for (size_t ti = 0; ti < ctx.targets.size(); ++ti)
        for (size_t ri = 0; ri < ctx.targets[ti].regions.size(); ++ri) {
            if (!matches_access_pattern(ctx.targets[ti].regions[ri], s)) continue;
            if (core_filter_out(ctx, ti, ri, s)) continue;
            const Region& r = ctx.targets[ti].regions[ri];
            const uint32_t score = std::min(ops.scheme_score(ctx, r, s), kDamosMaxScore);
            histogram[score] += r.size();
            max_score = std::max(max_score, score);
        }
    uint64_t cumulated = 0;
    uint32_t score = max_score;
    for (;; --score) {
        cumulated += histogram[score];
        if (cumulated >= q.esz || score == 0) break;
    }
    q.min_score = score;
}

uint64_t wmark_wait_us(DamosScheme& s, SystemMetrics& metrics) {
    const Watermarks& w = s.params.watermarks;
    if (w.metric == WatermarkMetric::None) return 0;
    const std::optional<uint64_t> metric = metrics.free_mem_rate();
    if (!metric) return 0;
    if (*metric > w.high || w.low > *metric) {
        s.wmarks_activated = false;
        return w.interval_us;
    }
    if (w.high >= *metric && *metric >= w.mid && !s.wmarks_activated) return w.interval_us;
    s.wmarks_activated = true;
    return 0;
}

bool core_filter_out(DamonContext& ctx, size_t target, size_t region, const DamosScheme& s) {
    for (const Filter& f : s.params.filters) {
        if (!is_core_filter(f.type)) continue;
        if (filter_match(ctx, target, region, f)) return !f.allow;
    }
    return core_filters_default_reject(s);
}

void apply_schemes(DamonContext& ctx, AccessSource& ops, SystemMetrics& metrics, const Clock& clock) {
    bool any = false;
    const uint64_t now = clock.now_us();
    for (DamosScheme& s : ctx.schemes) {
        if (!due(ctx, s) || !s.wmarks_activated) continue;
        any = true;
        s.trying_regions.clear();
        adjust_quota(ctx, s, ops, metrics, now);
    }
    if (!any) return;

    for (size_t ti = 0; ti < ctx.targets.size(); ++ti) {
        if (!ops.target_valid(ti)) continue;
        // By index: a split inserts the right piece next, and it is visited.
        for (size_t ri = 0; ri < ctx.targets[ti].regions.size(); ++ri) do_apply_schemes(ctx, ti, ri, ops, clock);
    }
    for (DamosScheme& s : ctx.schemes) {
        if (!due(ctx, s)) continue;
        if (s.wmarks_activated) s.tried_regions = std::move(s.trying_regions);
        s.trying_regions.clear();
        set_next_apply_sis(s, ctx);
    }
}

}  // namespace damond
