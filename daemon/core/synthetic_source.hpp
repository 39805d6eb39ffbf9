// An access source with exact ground truth: each target has sets of pages,
// and every page of a set is touched in a sampling interval with the set's
// probability. Whether page P was touched in interval N is a pure function of
// (seed, P, N), so results do not depend on the order of queries.
#pragma once

#include <cstdint>
#include <vector>

#include "core/access_source.hpp"
#include "core/addr_range.hpp"

namespace damond {

struct SyntheticSet {
    AddrRange range;
    uint32_t access_bp = 0;  // per sampling interval, out of 10000
};

struct SyntheticTarget {
    uint64_t seed = 0;
    std::vector<SyntheticSet> sets;  // sorted, disjoint
};

class SyntheticSource : public AccessSource {
public:
    explicit SyntheticSource(std::vector<SyntheticTarget> targets);

    void set_targets(std::vector<SyntheticTarget> targets);
    // The probability (out of 10000) that `addr` is touched in an interval.
    uint32_t access_bp_at(size_t target, uint64_t addr) const;
    // Whether the page holding `addr` was touched in sampling interval `interval`.
    bool accessed(size_t target, uint64_t addr, uint64_t interval) const;

    std::string name() const override { return "synthetic"; }
    AccessSourceCaps caps() const override {
        return AccessSourceCaps{true, true, Granularity::Synthetic, false, false, false};
    }
    void update(DamonContext& ctx) override;
    void prepare_access_checks(DamonContext& ctx) override;
    uint32_t check_accesses(DamonContext& ctx) override;
    uint64_t apply_scheme(DamonContext& ctx, size_t target, const Region& r, const DamosScheme& s,
                          uint64_t& sz_ops_filter_passed) override;

private:
    std::vector<SyntheticTarget> targets_;
};

}  // namespace damond
