// An access source with exact ground truth. Each target has sets of pages;
// every page of a set is touched in a sampling interval with the set's
// probability, by reads, writes or both. A workload may cycle through
// phases (an app that alternates between foreground and background), and
// may reproduce the defects of real sources (seeing writes only, seeing one
// figure per mapping, missing accesses) for robustness tests. Whether page P
// was touched in interval N is a pure function of (seed, P, N), so results
// do not depend on the order of queries.
#pragma once

#include <cstdint>
#include <vector>

#include "core/access_kind.hpp"
#include "core/access_source.hpp"
#include "core/addr_range.hpp"

namespace damond {

struct SyntheticSet {
    AddrRange range;
    uint32_t access_bp = 0;  // per sampling interval, out of 10000
    AccessKind kind = AccessKind::Both;
};

struct SyntheticPhase {
    uint64_t duration_samples = 0;   // 0: forever
    std::vector<SyntheticSet> sets;  // sorted, disjoint
};

// Knobs that make the source see what a real one would.
struct SyntheticDefects {
    bool write_only = false;          // like soft-dirty or uffd-wp: read-only sets look idle
    std::vector<AddrRange> mappings;  // if set, like refs: one average figure per mapping
    uint32_t miss_bp = 0;             // accesses lost, out of 10000
};

struct SyntheticTarget {
    uint64_t seed = 0;
    std::vector<SyntheticPhase> phases;  // cycled through
    SyntheticDefects defects;
};

class SyntheticSource : public AccessSource {
public:
    explicit SyntheticSource(std::vector<SyntheticTarget> targets);

    void set_targets(std::vector<SyntheticTarget> targets);
    // Ground truth: the probability (out of 10000) that `addr` is touched in
    // sampling interval `interval`, by any kind of access.
    uint32_t access_bp_at(size_t target, uint64_t addr, uint64_t interval = 0) const;
    // What the source reports for the page holding `addr` in `interval`,
    // defects included.
    bool accessed(size_t target, uint64_t addr, uint64_t interval) const;

    std::string name() const override { return "synthetic"; }
    AccessSourceCaps caps() const override;
    void update(DamonContext& ctx) override;
    void prepare_access_checks(DamonContext& ctx) override;
    uint32_t check_accesses(DamonContext& ctx) override;
    uint64_t apply_scheme(DamonContext& ctx, size_t target, const Region& r, const DamosScheme& s,
                          uint64_t& sz_ops_filter_passed) override;

private:
    const SyntheticPhase* phase_at(size_t target, uint64_t interval) const;
    const SyntheticSet* set_at(const SyntheticPhase& phase, uint64_t addr) const;
    // The probability the source sees an access: the set's, or the mapping's
    // average with the per-mapping defect; zero for read-only sets when
    // write-only.
    uint32_t visible_bp(size_t target, uint64_t addr, uint64_t interval) const;

    std::vector<SyntheticTarget> targets_;
};

}  // namespace damond
