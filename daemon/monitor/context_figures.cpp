#include "monitor/context_figures.hpp"

#include <algorithm>

namespace damond {

namespace {
// Bytes x 1000 can pass 2^64 on a large vaddr range.
__extension__ typedef unsigned __int128 Wide;
}  // namespace

void FiguresBuilder::reset(uint64_t aggr_us) {
    aggr_us_ = aggr_us;
    monitored_ = accessed_ = regions_ = 0;
    idle_.clear();
}

void FiguresBuilder::add_region(uint64_t size, bool accessed, uint32_t age) {
    monitored_ += size;
    regions_++;
    if (accessed) {
        accessed_ += size;
        idle_.push_back({0, size});
    } else {
        idle_.push_back({uint64_t(age) * aggr_us_, size});
    }
}

void FiguresBuilder::finish(ContextFigures& out) {
    out.monitored_bytes = monitored_;
    out.working_set_bytes = accessed_;
    out.nr_regions = regions_;
    out.idle_p50_us = out.idle_p90_us = out.idle_p99_us = 0;
    if (monitored_ == 0) return;
    // Sorting a few hundred regions once an aggregation: a walk of the
    // percentiles in one pass over the sorted list.
    std::sort(idle_.begin(), idle_.end(), [](const Idle& a, const Idle& b) { return a.idle_us < b.idle_us; });
    struct Want {
        uint64_t per_mille;
        uint64_t* out;
    } wants[] = {{500, &out.idle_p50_us}, {900, &out.idle_p90_us}, {990, &out.idle_p99_us}};
    size_t w = 0;
    Wide seen = 0;
    for (const Idle& i : idle_) {
        seen += i.bytes;
        // seen / monitored >= per_mille / 1000, in integers.
        while (w < 3 && seen * 1000 >= Wide(wants[w].per_mille) * monitored_) *wants[w++].out = i.idle_us;
        if (w == 3) break;
    }
}

ContextFigures figures_of(const MonitorSnapshot& snapshot) {
    ContextFigures f;
    FiguresBuilder b;
    b.reset(snapshot.aggr_us);
    for (const auto& target : snapshot.targets)
        for (const SnapshotRegion& r : target) b.add_region(r.end - r.start, r.last_nr_accesses > 0, r.age);
    b.finish(f);
    f.nr_aggregations = snapshot.nr_aggregations;
    f.nr_samples = snapshot.nr_samples;
    f.sample_us = snapshot.sample_us;
    f.aggr_us = snapshot.aggr_us;
    for (const SchemeSnapshot& s : snapshot.schemes) f.schemes.push_back(s.stats);
    return f;
}

void figures_of(const DamonContext& ctx, uint64_t nr_samples, FiguresBuilder& builder, ContextFigures& out) {
    builder.reset(ctx.attrs.aggr_us);
    for (const MonitorTarget& t : ctx.targets)
        for (const Region& r : t.regions) builder.add_region(r.size(), r.last_nr_accesses > 0, r.age);
    builder.finish(out);
    out.nr_aggregations = ctx.nr_aggregations;
    out.nr_samples = nr_samples;
    out.sample_us = ctx.attrs.sample_us;
    out.aggr_us = ctx.attrs.aggr_us;
    out.schemes.resize(ctx.schemes.size());
    for (size_t i = 0; i < ctx.schemes.size(); ++i) {
        const DamosScheme& s = ctx.schemes[i];
        SchemeStats& f = out.schemes[i];
        f.counters = s.stat;
        f.effective_quota_bytes = s.quota.esz;
        f.active = s.wmarks_activated;
        const auto& goals = s.params.quotas.goals;
        f.goals.resize(goals.size());
        for (size_t g = 0; g < goals.size(); ++g)
            f.goals[g] = {g < s.goals.size() ? s.goals[g].current_value : 0, goals[g].target_value};
    }
}

}  // namespace damond
