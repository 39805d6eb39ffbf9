#include "kernel/kdamond_pool.hpp"

#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace damond {

KdamondPool::KdamondPool(GuardedTree& tree, uint32_t size, const std::string& state_dir) {
    const uint32_t first = static_cast<uint32_t>(std::stoul(tree.read("kdamonds/nr_kdamonds")));
    tree.grow_pool(first, size);
    std::string list;
    for (uint32_t k = first; k < first + size; ++k) {
        all_.insert(k);
        free_.insert(k);
        list += (list.empty() ? "" : ", ") + std::to_string(k);
    }
    std::filesystem::create_directories(state_dir);
    write_file_atomically(state_dir + "/kdamonds.json", "{\"owned\": [" + list + "]}\n");
}

std::optional<uint32_t> KdamondPool::acquire() {
    if (free_.empty()) return std::nullopt;
    const uint32_t k = *free_.begin();
    free_.erase(free_.begin());
    return k;
}

void KdamondPool::release(uint32_t kdamond) {
    if (all_.count(kdamond)) free_.insert(kdamond);
}

}  // namespace damond
