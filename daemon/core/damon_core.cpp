#include "core/damon_core.hpp"

#include <algorithm>

namespace damond {

namespace {

uint64_t align_down(uint64_t v) { return v / kMinRegionSize * kMinRegionSize; }
uint64_t align_up(uint64_t v) { return align_down(v + kMinRegionSize - 1); }

uint32_t diff_of(uint32_t a, uint32_t b) { return a > b ? a - b : b - a; }

uint64_t nr_regions_of(const DamonContext& ctx) {
    uint64_t n = 0;
    for (const MonitorTarget& t : ctx.targets) n += t.regions.size();
    return n;
}

// damon_max_nr_accesses: samples per aggregation window.
uint64_t max_nr_accesses(const MonitoringAttrs& a) {
    return std::min<uint64_t>(a.aggr_us / std::max<uint64_t>(a.sample_us, 1), UINT32_MAX);
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

// damon_merge_two_regions: the survivor takes size-weighted averages.
void merge_two_regions(Region& l, const Region& r) {
    const uint64_t sz_l = l.size(), sz_r = r.size();
    l.nr_accesses = static_cast<uint32_t>((l.nr_accesses * sz_l + r.nr_accesses * sz_r) / (sz_l + sz_r));
    l.age = static_cast<uint32_t>((l.age * sz_l + r.age * sz_r) / (sz_l + sz_r));
    l.end = r.end;
}

// damon_split_region_at: the new right piece inherits the access history.
void split_region_at(std::vector<Region>& regions, size_t idx, uint64_t sz_left) {
    Region right = regions[idx];
    right.start = regions[idx].start + sz_left;
    regions[idx].end = right.start;
    regions.insert(regions.begin() + static_cast<std::ptrdiff_t>(idx) + 1, right);
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
        for (const Region& r : t.regions) sz += r.size();
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

        if (!merged.empty()) {
            Region& prev = merged.back();
            if (prev.end == r.start && diff_of(prev.nr_accesses, r.nr_accesses) <= threshold &&
                prev.size() + r.size() <= sz_limit) {
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
    // A commit arrives between samples, inside an aggregation window. Like
    // damon_update_monitoring_result(aggregating=true), drop the partial
    // window and convert the last complete one to the new intervals.
    for (MonitorTarget& t : ctx.targets)
        for (Region& r : t.regions) {
            r.last_nr_accesses = nr_accesses_for_new_attrs(r.last_nr_accesses, old, attrs);
            r.nr_accesses = 0;
            r.age = age_for_new_attrs(r.age, old, attrs);
        }
    ctx.next_aggregation_sis = ctx.passed_sample_intervals + attrs.aggr_us / sample;
    ctx.next_ops_update_sis = ctx.passed_sample_intervals + attrs.update_us / sample;
    ctx.attrs = attrs;
}

DamonCore::DamonCore(MonitoringAttrs attrs, std::vector<TargetRanges> targets, std::unique_ptr<AccessSource> source,
                     uint64_t seed)
    : initial_ranges_(std::move(targets)), source_(std::move(source)) {
    ctx_.attrs = attrs;
    ctx_.rng.reseed(seed);
}

void DamonCore::start() {
    ctx_.targets.assign(initial_ranges_.size(), MonitorTarget{});
    for (size_t i = 0; i < initial_ranges_.size(); ++i) set_regions(ctx_.targets[i], initial_ranges_[i]);
    apply_min_nr_regions(ctx_);
    const uint64_t sample = std::max<uint64_t>(ctx_.attrs.sample_us, 1);
    ctx_.passed_sample_intervals = 0;
    ctx_.next_aggregation_sis = ctx_.attrs.aggr_us / sample;
    ctx_.next_ops_update_sis = ctx_.attrs.update_us / sample;
}

void DamonCore::prepare_sample() { source_->prepare_access_checks(ctx_); }

void DamonCore::finish_sample() {
    // Saved before anything below may move them, as kdamond_fn does.
    const uint64_t next_aggregation_sis = ctx_.next_aggregation_sis;
    const uint64_t next_ops_update_sis = ctx_.next_ops_update_sis;
    const uint64_t sz_limit = region_sz_limit(ctx_);

    ctx_.passed_sample_intervals++;
    const uint32_t max_nr = source_->check_accesses(ctx_);
    const uint64_t sample = std::max<uint64_t>(ctx_.attrs.sample_us, 1);

    if (ctx_.passed_sample_intervals >= next_aggregation_sis) {
        merge_regions(ctx_, max_nr / 10, sz_limit);
        ctx_.next_aggregation_sis = next_aggregation_sis + ctx_.attrs.aggr_us / sample;
        reset_aggregated(ctx_);
        split_regions(ctx_);
    }
    if (ctx_.passed_sample_intervals >= next_ops_update_sis) {
        ctx_.next_ops_update_sis = next_ops_update_sis + ctx_.attrs.update_us / sample;
        source_->update(ctx_);
    }
}

void DamonCore::commit(const MonitoringAttrs& attrs, const std::vector<TargetRanges>& targets) {
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
