// damond's own kdamonds: allocated at start-up when the kernel's tree
// allows it, recorded in the state directory, and handed out one per
// kernel context.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "kernel/guarded_tree.hpp"
#include "kernel/kernel_probe.hpp"

namespace damond {

class KdamondPool {
public:
    // Grows nr_kdamonds by `size` (GuardedTree::grow_pool's rules) and records
    // the indices in <state_dir>/kdamonds.json. Throws SysfsError or
    // std::runtime_error.
    KdamondPool(GuardedTree& tree, uint32_t size, const std::string& state_dir);

    // A free kdamond, or nullopt when all are in use.
    std::optional<uint32_t> acquire();
    void release(uint32_t kdamond);
    const std::set<uint32_t>& all() const { return all_; }

private:
    std::set<uint32_t> all_;
    std::set<uint32_t> free_;
};

}  // namespace damond
