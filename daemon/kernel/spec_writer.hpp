// A context spec in the kernel's sysfs files: the checks the kernel would
// only make too late (inside a commit, which stops the kdamond), and the
// staging of every file the running kernel has.
#pragma once

#include <cstdint>

#include "kernel/kernel_probe.hpp"
#include "kernel/sysfs_tree.hpp"
#include "spec/context_spec.hpp"

namespace damond {

// Throws DamondError: NotSupported for what this kernel lacks (naming the
// field and the feature), InvalidSpec for what it would refuse.
void check_for_kernel(const ContextSpec& spec, const KernelProbe& probe);

// Stages `spec` (with `extra_schemes` appended, e.g. damond's own stat
// scheme for readback) into kdamonds/<kdamond>/contexts/0. Scheme and
// target lists only grow or shrink at the end, so index-matched state is
// kept by a later commit. Writes go through `tree` (a GuardedTree).
void stage_spec(SysfsTree& tree, uint32_t kdamond, const ContextSpec& spec,
                const std::vector<Scheme>& extra_schemes = {});

}  // namespace damond
