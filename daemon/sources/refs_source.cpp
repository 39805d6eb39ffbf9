#include "sources/refs_source.hpp"

#include <algorithm>

namespace damond {

void RefsSource::prepare_access_checks(DamonContext& ctx) {
    for (size_t i = 0; i < targets_.size() && i < ctx.targets.size(); ++i) {
        for (Region& r : ctx.targets[i].regions) r.sampling_addr = ctx.rng.range(r.start, r.end);
        if (!targets_[i].handle->alive()) continue;
        try {
            fs_.write_text(proc_path(i, "clear_refs"), "1");
        } catch (const std::exception&) {
            // The process exited in between: target_valid says so next.
        }
    }
}

uint32_t RefsSource::check_accesses(DamonContext& ctx) {
    uint32_t max_nr = 0;
    for (size_t i = 0; i < targets_.size() && i < ctx.targets.size(); ++i) {
        const std::vector<Vma> vmas = read_mappings(i, "smaps");
        for (Region& r : ctx.targets[i].regions) {
            const Vma* v = find_vma(vmas, r.sampling_addr);
            bool accessed = false;
            if (v && v->referenced) {
                // P(accessed) = referenced share of the mapping, drawn in 1/2^20 steps.
                const uint64_t share =
                    std::min<uint64_t>(v->referenced, v->end - v->start) * (1 << 20) / (v->end - v->start);
                accessed = ctx.rng.range(0, 1 << 20) < share;
            }
            update_region_access_rate(r, accessed, ctx.attrs);
            max_nr = std::max(max_nr, r.nr_accesses);
        }
    }
    return max_nr;
}

}  // namespace damond
