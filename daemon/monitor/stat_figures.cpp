#include "monitor/stat_figures.hpp"

#include <algorithm>
#include <vector>

namespace damond {

namespace {

// Bytes x accesses and bytes x 100 overflow 64 bits on big machines.
__extension__ typedef unsigned __int128 Wide;

// In aggregations: positive for idle regions, negative for accessed ones.
int64_t idle_aggregations(const SnapshotRegion& r) {
    const int64_t n = int64_t{r.age} + 1;
    return r.last_nr_accesses ? -n : n;
}

}  // namespace

int64_t idle_ms(const SnapshotRegion& region, uint64_t aggr_us) {
    return idle_aggregations(region) * static_cast<int64_t>(aggr_us) / 1000;
}

StatFigures stat_figures(const MonitorSnapshot& snapshot) {
    StatFigures out;
    out.aggr_interval_us = snapshot.aggr_us;
    if (snapshot.aggr_us == 0) return out;
    std::vector<const SnapshotRegion*> sorted;
    Wide access_bytes = 0;
    uint64_t total = 0;
    for (const auto& target : snapshot.targets)
        for (const SnapshotRegion& r : target) {
            sorted.push_back(&r);
            total += r.end - r.start;
            access_bytes += static_cast<Wide>(r.end - r.start) * r.last_nr_accesses;
        }
    if (total == 0) return out;
    out.estimated_memory_bandwidth = static_cast<uint64_t>(access_bytes * 1000000 / snapshot.aggr_us);
    std::stable_sort(sorted.begin(), sorted.end(), [](const SnapshotRegion* a, const SnapshotRegion* b) {
        return idle_aggregations(*a) < idle_aggregations(*b);
    });
    // Percentile p is the idle time of the region in which the p-th percent
    // of the bytes (in that order) ends.
    uint64_t accounted = 0;
    size_t next = 0;
    for (const SnapshotRegion* r : sorted) {
        accounted += r->end - r->start;
        const auto reached = static_cast<size_t>(static_cast<Wide>(accounted) * 100 / total);
        const int64_t ms = idle_ms(*r, snapshot.aggr_us);
        for (; next <= reached && next < out.idle_ms_percentiles.size(); ++next) out.idle_ms_percentiles[next] = ms;
    }
    return out;
}

}  // namespace damond
