#include "core/damon_core.hpp"

#include <algorithm>

#include "core/damos.hpp"

namespace damond {

namespace {

uint64_t align_down(uint64_t v) { return align_down_to_page(v); }
uint64_t align_up(uint64_t v) { return align_down_to_page(v + kMinRegionSize - 1); }

uint32_t diff_of(uint32_t a, uint32_t b) { return a > b ? a - b : b - a; }

uint64_t nr_regions_of(const DamonContext& ctx) {
    uint64_t n = 0;
    for (const MonitorTarget& t : ctx.targets) n += t.regions.size();
    return n;
}

// damon_nr_accesses_for_new_attrs: convert through a per-10,000 ratio, with
// the kernel's integer rounding.
uint32_t nr_accesses_for_new_attrs(uint32_t nr, const MonitoringAttrs& old_a, const MonitoringAttrs& new_a) {
    const uint64_t old_max = std::max<uint64_t>(max_nr_accesses(old_a), 1);
    const uint64_t bp = uint64_t{nr} * 10000 / old_max;
    return static_cast<uint32_t>(bp * max_nr_accesses(new_a) / 10000);
}

// damon_age_for_new_attrs: age is counted in aggregation intervals.
uint32_t age_for_new_attrs(uint32_t age, const MonitoringAttrs& old_a, const MonitoringAttrs& new_a) {
    return static_cast<uint32_t>(uint64_t{age} * old_a.aggr_us / new_a.aggr_us);
}

// Products of a count and a size: a size may take all 64 bits.
__extension__ using Wide = unsigned __int128;

// damon_merge_two_regions: the survivor takes size-weighted averages.
void merge_two_regions(Region& l, const Region& r) {
    const Wide sz_l = l.size(), sz_r = r.size();
    l.nr_accesses = static_cast<uint32_t>((l.nr_accesses * sz_l + r.nr_accesses * sz_r) / (sz_l + sz_r));
    l.nr_accesses_bp = l.nr_accesses * 10000;
    l.age = static_cast<uint32_t>((l.age * sz_l + r.age * sz_r) / (sz_l + sz_r));
    l.end = r.end;
}

Region new_region(uint64_t start, uint64_t end) {
    Region r;
    r.start = start;
    r.end = end;
    return r;
}

bool intersects(const Region& r, const AddrRange& range) { return r.start < range.end && range.start < r.end; }

}  // namespace

uint64_t region_sz_limit(const DamonContext& ctx) {
    uint64_t sz = 0;
    for (const MonitorTarget& t : ctx.targets)
        for (const Region& r : t.regions) sz = r.size() > UINT64_MAX - sz ? UINT64_MAX : sz + r.size();
    if (ctx.attrs.min_nr_regions) sz /= ctx.attrs.min_nr_regions;
    return std::max(sz, kMinRegionSize);
}

void merge_regions_of(MonitorTarget& t, uint32_t threshold, uint64_t sz_limit) {
    std::vector<Region> merged;
    merged.reserve(t.regions.size());
    for (Region r : t.regions) {
        // Age counts windows whose access rate stayed within the threshold;
        // a flip between idle and accessed also restarts it (newer core.c).
        if (diff_of(r.nr_accesses, r.last_nr_accesses) > threshold)
            r.age = 0;
        else if ((r.nr_accesses == 0) != (r.last_nr_accesses == 0))
            r.age = 0;
        else
            r.age++;
        r.nr_accesses_bp = r.nr_accesses * 10000;  // exact at a window's end

        if (!merged.empty()) {
            Region& prev = merged.back();
            if (prev.end == r.start && diff_of(prev.nr_accesses, r.nr_accesses) <= threshold &&
                Wide{prev.size()} + r.size() <= sz_limit) {
                merge_two_regions(prev, r);
                continue;
            }
        }
        merged.push_back(r);
    }
    t.regions = std::move(merged);
}

void merge_regions(DamonContext& ctx, uint32_t threshold, uint64_t sz_limit) {
    // Repeat with a doubling threshold while above max_nr_regions (it can be
    // lowered online), but no further than a full window's worth of samples.
    // Like the kernel, every pass ages the regions again.
    const uint64_t max_thres = max_nr_accesses(ctx.attrs);
    uint64_t nr_regions = 0;
    do {
        nr_regions = 0;
        for (MonitorTarget& t : ctx.targets) {
            merge_regions_of(t, threshold, sz_limit);
            nr_regions += t.regions.size();
        }
        threshold = std::max<uint32_t>(1, threshold * 2);
    } while (nr_regions > ctx.attrs.max_nr_regions && threshold / 2 < max_thres);
}

void reset_aggregated(DamonContext& ctx) {
    for (MonitorTarget& t : ctx.targets)
        for (Region& r : t.regions) {
            r.last_nr_accesses = r.nr_accesses;
            r.nr_accesses_bp = r.nr_accesses * 10000;
            r.nr_accesses = 0;
        }
    ctx.nr_aggregations++;
}

void split_regions_of(MonitorTarget& t, int nr_subs, Rng& rng) {
    for (size_t i = 0; i < t.regions.size(); ++i) {
        uint64_t sz_region = t.regions[i].size();
        const size_t first = i;
        for (int s = 0; s < nr_subs - 1 && sz_region > 2 * kMinRegionSize; ++s) {
            // The left piece takes 10% to 90% of the region, page-aligned.
            const uint64_t sz_sub = align_down(rng.range(1, 10) * sz_region / 10);
            if (sz_sub == 0 || sz_sub >= sz_region) continue;
            split_region_at(t.regions, first, sz_sub);
            sz_region = sz_sub;
            ++i;  // skip the piece just inserted on the right
        }
    }
}

void split_regions(DamonContext& ctx) {
    const uint64_t nr_regions = nr_regions_of(ctx);
    if (nr_regions > ctx.attrs.max_nr_regions / 2) return;
    // If the count did not change since the last split, the middle of a
    // region may differ from its edges: try three pieces.
    int nr_subregions = 2;
    if (ctx.last_nr_regions_at_split == nr_regions && nr_regions < ctx.attrs.max_nr_regions / 3) nr_subregions = 3;
    for (MonitorTarget& t : ctx.targets) split_regions_of(t, nr_subregions, ctx.rng);
    ctx.last_nr_regions_at_split = nr_regions;
}

void set_regions(MonitorTarget& t, const TargetRanges& ranges) {
    // Drop regions that intersect no new range.
    std::vector<Region> kept;
    for (const Region& r : t.regions)
        if (std::any_of(ranges.begin(), ranges.end(), [&](const AddrRange& a) { return intersects(r, a); }))
            kept.push_back(r);

    std::vector<Region> out;
    size_t k = 0;
    for (const AddrRange& range : ranges) {
        const uint64_t start = align_down(range.start), end = align_up(range.end);
        while (k < kept.size() && kept[k].end <= range.start) out.push_back(kept[k++]);
        std::vector<Region> inside;
        while (k < kept.size() && intersects(kept[k], range)) inside.push_back(kept[k++]);
        if (inside.empty()) {
            out.push_back(new_region(start, end));
            continue;
        }
        // Trim or extend the edge regions to the range; fill holes with new
        // regions whose history starts at zero.
        inside.front().start = start;
        inside.back().end = end;
        for (size_t i = 0; i < inside.size(); ++i) {
            if (i > 0 && inside[i - 1].end < inside[i].start)
                out.push_back(new_region(inside[i - 1].end, inside[i].start));
            out.push_back(inside[i]);
        }
    }
    while (k < kept.size()) out.push_back(kept[k++]);
    t.regions = std::move(out);
}

void apply_min_nr_regions(DamonContext& ctx) {
    const uint64_t max_sz = align_up(region_sz_limit(ctx));
    for (MonitorTarget& t : ctx.targets)
        for (size_t i = 0; i < t.regions.size(); ++i)
            if (t.regions[i].size() > max_sz) split_region_at(t.regions, i, max_sz);
}

void set_attrs(DamonContext& ctx, const MonitoringAttrs& attrs) {
    const MonitoringAttrs old = ctx.attrs;
    if (old == attrs) return;  // damon_attrs_equals: nothing to do, no timer reset
    const uint64_t sample = std::max<uint64_t>(attrs.sample_us, 1);
    // damon_update_monitoring_result: in the middle of a window (a commit),
    // the partial window is dropped and the last complete one converted; at
    // a window's end (auto-tuning), the finished window itself is converted.
    const bool aggregating = ctx.passed_sample_intervals < ctx.next_aggregation_sis;
    // damon_update_monitoring_results: when an old or a new interval is 0,
    // the kernel converts nothing (what a deep pause relies on).
    const bool convert = old.sample_us && old.aggr_us && attrs.sample_us && attrs.aggr_us;
    for (MonitorTarget& t : ctx.targets)
        for (Region& r : t.regions) {
            if (!convert) break;
            if (aggregating) {
                r.last_nr_accesses = nr_accesses_for_new_attrs(r.last_nr_accesses, old, attrs);
                r.nr_accesses_bp = r.last_nr_accesses * 10000;
                r.nr_accesses = 0;
            } else {
                r.nr_accesses = nr_accesses_for_new_attrs(r.nr_accesses, old, attrs);
                r.nr_accesses_bp = r.nr_accesses * 10000;
            }
            r.age = age_for_new_attrs(r.age, old, attrs);
        }
    ctx.next_aggregation_sis = ctx.passed_sample_intervals + attrs.aggr_us / sample;
    ctx.next_ops_update_sis = ctx.passed_sample_intervals + attrs.update_us / sample;
    ctx.attrs = attrs;
    for (DamosScheme& s : ctx.schemes) set_next_apply_sis(s, ctx);
}

void update_region_access_rate(Region& r, bool accessed, const MonitoringAttrs& attrs) {
    // damon_moving_sum: drop an average sample of the last window, add this one.
    const uint32_t len_window = static_cast<uint32_t>(std::max<uint64_t>(max_nr_accesses(attrs), 1));
    const uint32_t drop = r.last_nr_accesses * 10000 / len_window;
    r.nr_accesses_bp = (r.nr_accesses_bp > drop ? r.nr_accesses_bp - drop : 0) + (accessed ? 10000 : 0);
    if (accessed) r.nr_accesses++;
}

void tune_intervals(DamonContext& ctx) {
    // damon_get_intervals_score: observed access events against the goal's
    // share of all possible ones, x10000.
    uint64_t max_events = 0, events = 0;
    for (const MonitorTarget& t : ctx.targets)
        for (const Region& r : t.regions) {
            max_events += r.size() * ctx.attrs.aggr_samples();
            events += r.size() * r.nr_accesses;
        }
    const IntervalsGoal& goal = ctx.attrs.intervals_goal;
    uint64_t target_events = mult_frac(max_events, goal.access_bp, 10000);
    if (!target_events) target_events = 1;
    const uint64_t score_bp = mult_frac(events, 10000, target_events);

    // damon_get_intervals_adaptation_bp: 1..20000, with shrinking slowed to
    // at most halving.
    uint64_t adaptation_bp = feed_loop_next_input(100000000, score_bp) / 10000;
    if (adaptation_bp <= 10000) adaptation_bp = 5000 + adaptation_bp / 2;
    if (adaptation_bp == 10000) return;

    MonitoringAttrs next = ctx.attrs;
    next.sample_us =
        std::max(goal.min_sample_us, std::min(goal.max_sample_us, ctx.attrs.sample_us * adaptation_bp / 10000));
    next.aggr_us = next.sample_us * ctx.attrs.aggr_samples();
    set_attrs(ctx, next);
}

DamonCore::DamonCore(MonitoringAttrs attrs, std::vector<TargetRanges> targets, std::vector<Scheme> schemes,
                     std::unique_ptr<AccessSource> source, uint64_t seed, const Clock& clock, SystemMetrics& metrics)
    : initial_ranges_(std::move(targets)), source_(std::move(source)), clock_(clock), metrics_(metrics) {
    ctx_.attrs = attrs;
    ctx_.rng.reseed(seed);
    for (const Scheme& s : schemes) ctx_.schemes.push_back(make_scheme(s));
}

bool DamonCore::all_targets_gone() {
    if (ctx_.targets.empty()) return false;
    for (size_t i = 0; i < ctx_.targets.size(); ++i)
        if (source_->target_valid(i)) return false;
    return true;
}

uint64_t DamonCore::activation_wait_us() {
    if (ctx_.schemes.empty()) return 0;
    uint64_t min_wait = UINT64_MAX;
    for (DamosScheme& s : ctx_.schemes) min_wait = std::min(min_wait, wmark_wait_us(s, metrics_));
    return min_wait;
}

void DamonCore::start(const std::vector<MonitorTarget>* warm) {
    ctx_.targets.assign(initial_ranges_.size(), MonitorTarget{});
    for (size_t i = 0; i < initial_ranges_.size(); ++i) set_regions(ctx_.targets[i], initial_ranges_[i]);
    apply_min_nr_regions(ctx_);
    if (warm && warm->size() == ctx_.targets.size()) ctx_.targets = *warm;
    const uint64_t sample = std::max<uint64_t>(ctx_.attrs.sample_us, 1);
    ctx_.passed_sample_intervals = 0;
    ctx_.next_aggregation_sis = ctx_.attrs.aggr_us / sample;
    ctx_.next_ops_update_sis = ctx_.attrs.update_us / sample;
    ctx_.next_intervals_tune_sis = ctx_.next_aggregation_sis * ctx_.attrs.intervals_goal.aggrs;
    for (DamosScheme& s : ctx_.schemes) set_next_apply_sis(s, ctx_);
}

void DamonCore::prepare_sample() { source_->prepare_access_checks(ctx_); }

void DamonCore::finish_sample() {
    // Saved before anything below may move them, as kdamond_fn does.
    const uint64_t next_aggregation_sis = ctx_.next_aggregation_sis;
    const uint64_t next_ops_update_sis = ctx_.next_ops_update_sis;
    const uint64_t sz_limit = region_sz_limit(ctx_);

    ctx_.passed_sample_intervals++;
    const uint32_t max_nr = source_->check_accesses(ctx_);

    const bool aggregate = ctx_.passed_sample_intervals >= next_aggregation_sis;
    if (aggregate) merge_regions(ctx_, max_nr / 10, sz_limit);
    if (!ctx_.schemes.empty()) apply_schemes(ctx_, *source_, metrics_, clock_);

    uint64_t sample = std::max<uint64_t>(ctx_.attrs.sample_us, 1);
    if (aggregate) {
        if (ctx_.attrs.intervals_goal.aggrs && ctx_.passed_sample_intervals >= ctx_.next_intervals_tune_sis) {
            // Restore the window's end first, so set_attrs does not take the
            // tuning for a change in the middle of a window.
            ctx_.next_aggregation_sis = next_aggregation_sis;
            ctx_.next_intervals_tune_sis += ctx_.attrs.aggr_samples() * ctx_.attrs.intervals_goal.aggrs;
            tune_intervals(ctx_);
            sample = std::max<uint64_t>(ctx_.attrs.sample_us, 1);
        }
        ctx_.next_aggregation_sis = next_aggregation_sis + ctx_.attrs.aggr_us / sample;
        reset_aggregated(ctx_);
        split_regions(ctx_);
    }
    if (ctx_.passed_sample_intervals >= next_ops_update_sis) {
        ctx_.next_ops_update_sis = next_ops_update_sis + ctx_.attrs.update_us / sample;
        source_->update(ctx_);
    }
}

void DamonCore::commit(const MonitoringAttrs& attrs, const std::vector<TargetRanges>& targets,
                       const std::vector<Scheme>& schemes) {
    // Schemes first, matched by index like damos_commit: parameters are
    // replaced, stats and quota state kept; the committed watermarks start
    // active; new schemes start fresh.
    const size_t kept = std::min(schemes.size(), ctx_.schemes.size());
    ctx_.schemes.resize(kept);
    for (size_t i = 0; i < kept; ++i) {
        DamosScheme& s = ctx_.schemes[i];
        s.params = schemes[i];
        s.wmarks_activated = true;
        s.goals.resize(schemes[i].quotas.goals.size());
    }
    for (size_t i = kept; i < schemes.size(); ++i) {
        ctx_.schemes.push_back(make_scheme(schemes[i]));
        set_next_apply_sis(ctx_.schemes.back(), ctx_);
    }
    // A quota cursor on a target that goes away is dropped.
    for (DamosScheme& s : ctx_.schemes)
        if (s.quota.charge_cursor && s.quota.charge_target_from >= targets.size()) {
            s.quota.charge_cursor = false;
            s.quota.charge_addr_from = 0;
        }

    // Targets are matched by index: extra ones go, new ones start fresh.
    ctx_.targets.resize(targets.size());
    initial_ranges_.resize(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
        if (targets[i].empty()) continue;  // no ranges: keep the current regions
        set_regions(ctx_.targets[i], targets[i]);
        initial_ranges_[i] = targets[i];
    }
    set_attrs(ctx_, attrs);
    apply_min_nr_regions(ctx_);
}

}  // namespace damond
