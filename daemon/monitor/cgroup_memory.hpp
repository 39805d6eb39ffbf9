// Memory by cgroup: how many bytes of each cgroup a system-wide (paddr)
// context sees hot, warm and cold. The kernel's DAMON regions say how long
// each range of physical memory has been idle; which cgroup a page is
// charged to comes from elsewhere (kpagecgroup, sources/page_cgroups.hpp),
// asked for a few pages of each region: a region's bytes are shared out by
// the share of its sampled pages each cgroup holds.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "monitor/monitor.hpp"

namespace damond {

// Idle time (DAMON_STAT's definition, monitor/stat_figures.hpp) at and past
// which memory is warm, and cold; below warm_ms it is hot.
struct IdleThresholds {
    uint64_t warm_ms = 5000;
    uint64_t cold_ms = 60000;
};

struct CgroupBytes {
    uint64_t hot = 0, warm = 0, cold = 0;
    bool operator==(const CgroupBytes&) const = default;
};

// Which of the cgroups (an index below `count`) holds each page frame asked
// for, or -1 for none of them; one answer per pfn, in order.
using PageOwnerLookup = std::function<std::vector<int>(const std::vector<uint64_t>& pfns)>;

struct CgroupFigure {
    std::string path;  // relative to cgroupfs
    CgroupBytes bytes;
    bool operator==(const CgroupFigure&) const = default;
};

struct CgroupMemory {
    std::vector<CgroupBytes> bytes;  // one per cgroup
    uint64_t sampled_pages = 0;
};

// `count` cgroups; up to `samples_per_region` pages of each region, spread
// evenly over it (the same ones every time: the figures move with the
// memory, not with the draw). Addresses are physical, `page_size` bytes a page.
CgroupMemory cgroup_memory(const MonitorSnapshot& snapshot, size_t count, const IdleThresholds& thresholds,
                           uint64_t samples_per_region, uint64_t page_size, const PageOwnerLookup& lookup);

// The same from the kernel's data-attribute probes (7.2+): probe i counts,
// per region and aggregation, the samples whose page is charged to cgroup
// i; of aggr_us / sample_us samples, that share of the region is the
// cgroup's. `count` cgroups, probes 0..count-1 of each region.
CgroupMemory cgroup_memory_from_probes(const MonitorSnapshot& snapshot, size_t count, const IdleThresholds& thresholds);

}  // namespace damond
