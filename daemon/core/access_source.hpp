// Where the core learns about page accesses: the counterpart of the kernel's
// struct damon_operations. The core calls these at the same points kdamond_fn
// calls the ops callbacks.
#pragma once

#include <cstdint>
#include <string>

#include "core/damon_context.hpp"

namespace damond {

class AccessSource {
public:
    virtual ~AccessSource() = default;

    virtual std::string name() const = 0;
    // ops->update: refresh the targets' address layout (every update_us).
    virtual void update(DamonContext& ctx) = 0;
    // ops->prepare_access_checks: pick each region's sampling address and
    // clear its accessed state, at the start of a sampling interval.
    virtual void prepare_access_checks(DamonContext& ctx) = 0;
    // ops->check_accesses: count an access in every region whose sampling
    // address was touched during the interval; returns the largest nr_accesses.
    virtual uint32_t check_accesses(DamonContext& ctx) = 0;
};

}  // namespace damond
