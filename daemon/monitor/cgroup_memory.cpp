#include "monitor/cgroup_memory.hpp"

#include <algorithm>

#include "monitor/stat_figures.hpp"

namespace damond {

namespace {

__extension__ typedef unsigned __int128 Wide;  // bytes x samples past 64 bits

void add_by_idle(CgroupBytes& b, uint64_t bytes, int64_t idle_ms, const IdleThresholds& thresholds) {
    if (idle_ms < static_cast<int64_t>(thresholds.warm_ms))
        b.hot += bytes;
    else if (idle_ms < static_cast<int64_t>(thresholds.cold_ms))
        b.warm += bytes;
    else
        b.cold += bytes;
}

}  // namespace

CgroupMemory cgroup_memory(const MonitorSnapshot& snapshot, size_t count, const IdleThresholds& thresholds,
                           uint64_t samples_per_region, uint64_t page_size, const PageOwnerLookup& lookup) {
    CgroupMemory out;
    out.bytes.resize(count);
    if (count == 0 || samples_per_region == 0 || page_size == 0) return out;
    for (const auto& target : snapshot.targets)
        for (const SnapshotRegion& r : target) {
            const uint64_t first = r.start / page_size;
            const uint64_t pages = r.end > r.start ? (r.end - 1) / page_size - first + 1 : 0;
            if (pages == 0) continue;
            const uint64_t n = std::min(pages, samples_per_region);
            std::vector<uint64_t> pfns;
            pfns.reserve(n);
            // The middle of each of n equal slices.
            for (uint64_t i = 0; i < n; ++i)
                pfns.push_back(first + static_cast<uint64_t>((static_cast<Wide>(2 * i + 1) * pages) / (2 * n)));
            const std::vector<int> owners = lookup(pfns);
            out.sampled_pages += n;
            std::vector<uint64_t> hits(count, 0);
            for (size_t i = 0; i < owners.size() && i < n; ++i)
                if (owners[i] >= 0 && static_cast<size_t>(owners[i]) < count) ++hits[owners[i]];
            const int64_t idle = idle_ms(r, snapshot.aggr_us);
            const uint64_t size = r.end - r.start;
            for (size_t c = 0; c < count; ++c) {
                if (!hits[c]) continue;
                const auto share = static_cast<uint64_t>(static_cast<Wide>(size) * hits[c] / n);
                add_by_idle(out.bytes[c], share, idle, thresholds);
            }
        }
    return out;
}

CgroupMemory cgroup_memory_from_probes(const MonitorSnapshot& snapshot, size_t count,
                                       const IdleThresholds& thresholds) {
    CgroupMemory out;
    out.bytes.resize(count);
    if (snapshot.sample_us == 0 || snapshot.aggr_us < snapshot.sample_us) return out;
    const uint64_t samples = snapshot.aggr_us / snapshot.sample_us;
    for (const auto& target : snapshot.targets)
        for (const SnapshotRegion& r : target) {
            const int64_t idle = idle_ms(r, snapshot.aggr_us);
            const uint64_t size = r.end - r.start;
            for (size_t c = 0; c < count && c < r.probe_hits.size(); ++c) {
                const uint64_t hits = std::min<uint64_t>(r.probe_hits[c], samples);
                if (!hits) continue;
                const auto share = static_cast<uint64_t>(static_cast<Wide>(size) * hits / samples);
                add_by_idle(out.bytes[c], share, idle, thresholds);
            }
            out.sampled_pages += samples;
        }
    return out;
}

}  // namespace damond
