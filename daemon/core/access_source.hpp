// Where the core learns about page accesses: the counterpart of the kernel's
// struct damon_operations. The core calls these at the same points kdamond_fn
// calls the ops callbacks.
#pragma once

#include <cstdint>
#include <string>

#include "core/damon_context.hpp"
#include "core/damos_params.hpp"

namespace damond {

// What an "access" means to a source and how finely it sees it.
enum class Granularity { Page, Mapping, Synthetic };

struct AccessSourceCaps {
    bool reads = false;
    bool writes = false;
    Granularity granularity = Granularity::Page;
    bool foreign = false;           // works on other processes
    bool perturbs_reclaim = false;  // clearing its bits also clears what reclaim uses
    bool anon_filter = false;       // can tell anonymous from file-backed memory
};

class AccessSource {
public:
    virtual ~AccessSource() = default;

    virtual std::string name() const = 0;
    virtual AccessSourceCaps caps() const = 0;
    // ops->update: refresh the targets' address layout (every update_us).
    virtual void update(DamonContext& ctx) = 0;
    // ops->prepare_access_checks: pick each region's sampling address and
    // clear its accessed state, at the start of a sampling interval.
    virtual void prepare_access_checks(DamonContext& ctx) = 0;
    // ops->check_accesses: count an access in every region whose sampling
    // address was touched during the interval (update_region_access_rate);
    // returns the largest nr_accesses.
    virtual uint32_t check_accesses(DamonContext& ctx) = 0;

    // ops->target_valid: false once a target is gone (its process exited).
    virtual bool target_valid(size_t /*target*/) { return true; }
    // Why a target is gone, for the user; "" if none is.
    virtual std::string gone_reason() const { return ""; }
    // ops->apply_scheme: apply the scheme's action to a region of a target;
    // returns the bytes it was applied to, and sets the bytes that passed the
    // source's own (ops) filters.
    virtual uint64_t apply_scheme(DamonContext& ctx, size_t target, const Region& r, const DamosScheme& s,
                                  uint64_t& sz_ops_filter_passed) = 0;
    // ops->get_scheme_score: the region's priority under the scheme's quota,
    // 0..kDamosMaxScore. The default is vaddr's: cold score for pageout, the
    // highest score for everything else.
    virtual uint32_t scheme_score(const DamonContext& ctx, const Region& r, const DamosScheme& s);
};

}  // namespace damond
