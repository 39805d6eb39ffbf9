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

uint64_t draw(uint64_t seed, uint64_t page, uint64_t interval, uint64_t salt) {
    return mix(seed ^ mix(page ^ mix(interval + 0x9e3779b97f4a7c15ULL * (salt + 1)))) % 10000;
}

uint32_t seen_bp(const SyntheticSet& s, bool write_only) {
    return write_only && s.kind == AccessKind::Read ? 0 : s.access_bp;
}

}  // namespace

SyntheticSource::SyntheticSource(std::vector<SyntheticTarget> targets) : targets_(std::move(targets)) {}

void SyntheticSource::set_targets(std::vector<SyntheticTarget> targets) { targets_ = std::move(targets); }

AccessSourceCaps SyntheticSource::caps() const {
    bool write_only = false, per_mapping = false;
    for (const SyntheticTarget& t : targets_) {
        write_only |= t.defects.write_only;
        per_mapping |= !t.defects.mappings.empty();
    }
    return AccessSourceCaps{!write_only, true,  per_mapping ? Granularity::Mapping : Granularity::Synthetic,
                            false,       false, false};
}

const SyntheticPhase* SyntheticSource::phase_at(size_t target, uint64_t interval) const {
    if (target >= targets_.size() || targets_[target].phases.empty()) return nullptr;
    const auto& phases = targets_[target].phases;
    uint64_t cycle = 0;
    for (const SyntheticPhase& p : phases) {
        if (p.duration_samples == 0) {
            cycle = 0;
            break;
        }
        cycle += p.duration_samples;
    }
    if (cycle == 0) {
        // A phase that lasts forever ends the cycle there.
        for (const SyntheticPhase& p : phases) {
            if (p.duration_samples == 0 || interval < p.duration_samples) return &p;
            interval -= p.duration_samples;
        }
        return &phases.back();
    }
    uint64_t at = interval % cycle;
    for (const SyntheticPhase& p : phases) {
        if (at < p.duration_samples) return &p;
        at -= p.duration_samples;
    }
    return &phases.back();
}

const SyntheticSet* SyntheticSource::set_at(const SyntheticPhase& phase, uint64_t addr) const {
    auto it = std::upper_bound(phase.sets.begin(), phase.sets.end(), addr,
                               [](uint64_t a, const SyntheticSet& s) { return a < s.range.start; });
    if (it == phase.sets.begin()) return nullptr;
    --it;
    return addr < it->range.end ? &*it : nullptr;
}

uint32_t SyntheticSource::access_bp_at(size_t target, uint64_t addr, uint64_t interval) const {
    const SyntheticPhase* phase = phase_at(target, interval);
    const SyntheticSet* set = phase ? set_at(*phase, addr) : nullptr;
    return set ? set->access_bp : 0;
}

uint32_t SyntheticSource::visible_bp(size_t target, uint64_t addr, uint64_t interval) const {
    const SyntheticPhase* phase = phase_at(target, interval);
    if (!phase) return 0;
    const SyntheticDefects& d = targets_[target].defects;
    for (const AddrRange& m : d.mappings) {
        if (addr < m.start || addr >= m.end) continue;
        // One figure per mapping: the size-weighted average of its sets.
        uint64_t weighted = 0;
        for (const SyntheticSet& s : phase->sets) {
            const uint64_t a = std::max(s.range.start, m.start), e = std::min(s.range.end, m.end);
            if (a < e) weighted += (e - a) / kMinRegionSize * seen_bp(s, d.write_only);
        }
        return static_cast<uint32_t>(weighted / ((m.end - m.start) / kMinRegionSize));
    }
    const SyntheticSet* set = set_at(*phase, addr);
    return set ? seen_bp(*set, d.write_only) : 0;
}

bool SyntheticSource::accessed(size_t target, uint64_t addr, uint64_t interval) const {
    const uint32_t bp = visible_bp(target, addr, interval);
    if (bp == 0) return false;
    const SyntheticTarget& t = targets_[target];
    const uint64_t page = addr / kMinRegionSize;
    if (draw(t.seed, page, interval, 0) >= bp) return false;
    return draw(t.seed, page, interval, 1) >= t.defects.miss_bp;
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

uint64_t SyntheticSource::apply_scheme(DamonContext&, size_t, const Region& r, const DamosScheme& s,
                                       uint64_t& sz_ops_filter_passed) {
    // There is no memory behind a synthetic target: an action other than
    // stat counts as applied to the whole region and changes nothing else.
    sz_ops_filter_passed = r.size();
    return s.params.action == Action::Stat ? 0 : r.size();
}

}  // namespace damond
