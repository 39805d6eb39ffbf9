// A process's mappings from /proc/<pid>/maps and smaps, and the kernel
// vaddr ops' three initial regions around the two biggest gaps.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/addr_range.hpp"

namespace damond {

struct Vma {
    uint64_t start = 0;
    uint64_t end = 0;
    std::string perms;
    std::string path;  // "" for anonymous memory, "[heap]", "[stack]", a file...
    // smaps figures in bytes, when read from smaps.
    uint64_t rss = 0;
    uint64_t referenced = 0;
    uint64_t anonymous = 0;

    bool file_backed() const { return !path.empty() && path[0] == '/'; }
};

// Parses maps or smaps text. [vsyscall] is left out: it is not part of the
// process's address space that madvise or DAMON can work on.
std::vector<Vma> parse_maps(const std::string& text);

// __damon_va_three_regions: the mapped area cut at the two biggest gaps
// between mappings, sorted by address. nullopt with fewer than three mappings
// or gaps.
std::optional<std::array<AddrRange, 3>> three_regions(const std::vector<Vma>& vmas);

// The mapping holding `addr`, or nullptr. `vmas` must be sorted.
const Vma* find_vma(const std::vector<Vma>& vmas, uint64_t addr);

}  // namespace damond
