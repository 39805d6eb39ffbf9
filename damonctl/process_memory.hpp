// The memory a process has, for the heatmap's rows: its mapped ranges from
// /proc/PID/maps, narrowed to the pages that are resident or swapped where
// the kernel can say (PAGEMAP_SCAN, Linux 6.7 and later). Reserved address
// space nothing touched (a JVM's heap reservation, ASan's shadow, guard
// areas) is not memory the process has, and would take the rows from it.
// Both are read as the caller: the kernel decides who may see them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace damonctl {

using AddrRanges = std::vector<std::pair<uint64_t, uint64_t>>;

// Sorted mapped ranges, or nothing when they cannot be read.
AddrRanges read_maps(int pid);

struct ProcessMemory {
    AddrRanges ranges;      // sorted; touching ranges are kept apart at mapping edges
    bool resident = false;  // narrowed to resident and swapped pages
};
// Empty ranges when the maps cannot be read; the mapped ranges alone when
// PAGEMAP_SCAN is not there or refused.
ProcessMemory process_memory(int pid);

}  // namespace damonctl
