#include "core/synthetic_source.hpp"

#include <algorithm>

#include "core/damon_core.hpp"

namespace damond {

namespace {

uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

}  // namespace

SyntheticSource::SyntheticSource(std::vector<SyntheticTarget> targets) : targets_(std::move(targets)) {}

void SyntheticSource::set_targets(std::vector<SyntheticTarget> targets) { targets_ = std::move(targets); }

uint32_t SyntheticSource::access_bp_at(size_t target, uint64_t addr) const {
    if (target >= targets_.size()) return 0;
    const auto& sets = targets_[target].sets;
    auto it = std::upper_bound(sets.begin(), sets.end(), addr,
                               [](uint64_t a, const SyntheticSet& s) { return a < s.range.start; });
    if (it == sets.begin()) return 0;
    --it;
    return addr < it->range.end ? it->access_bp : 0;
}

bool SyntheticSource::accessed(size_t target, uint64_t addr, uint64_t interval) const {
    const uint32_t bp = access_bp_at(target, addr);
    if (bp == 0) return false;
    const uint64_t page = addr / kMinRegionSize;
    const uint64_t h = mix(targets_[target].seed ^ mix(page ^ mix(interval + 0x9e3779b97f4a7c15ULL)));
    return h % 10000 < bp;
}

void SyntheticSource::update(DamonContext&) {
    // The synthetic address space never changes shape.
}

void SyntheticSource::prepare_access_checks(DamonContext& ctx) {
    for (MonitorTarget& t : ctx.targets)
        for (Region& r : t.regions) r.sampling_addr = ctx.rng.range(r.start, r.end);
}

uint32_t SyntheticSource::check_accesses(DamonContext& ctx) {
    uint32_t max_nr = 0;
    // passed_sample_intervals was just advanced: the interval that ended is
    // the one before it.
    const uint64_t interval = ctx.passed_sample_intervals - 1;
    for (size_t ti = 0; ti < ctx.targets.size(); ++ti)
        for (Region& r : ctx.targets[ti].regions) {
            update_region_access_rate(r, accessed(ti, r.sampling_addr, interval), ctx.attrs);
            max_nr = std::max(max_nr, r.nr_accesses);
        }
    return max_nr;
}

}  // namespace damond

namespace damond {

uint64_t SyntheticSource::apply_scheme(DamonContext&, size_t, const Region& r, const DamosScheme& s,
                                       uint64_t& sz_ops_filter_passed) {
    // There is no memory behind a synthetic target: an action other than
    // stat counts as applied to the whole region and changes nothing else.
    sz_ops_filter_passed = r.size();
    return s.params.action == Action::Stat ? 0 : r.size();
}

}  // namespace damond
