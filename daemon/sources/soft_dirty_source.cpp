#include "sources/soft_dirty_source.hpp"

#include <algorithm>

#include "sources/page_idle_source.hpp"

namespace damond {

void SoftDirtySource::prepare_access_checks(DamonContext& ctx) {
    for (size_t i = 0; i < targets_.size() && i < ctx.targets.size(); ++i) {
        for (Region& r : ctx.targets[i].regions) r.sampling_addr = ctx.rng.range(r.start, r.end);
        try {
            fs_.write_text(proc_path(i, "clear_refs"), "4");
        } catch (const std::exception&) {
        }
    }
}

uint32_t SoftDirtySource::check_accesses(DamonContext& ctx) {
    uint32_t max_nr = 0;
    for (size_t i = 0; i < targets_.size() && i < ctx.targets.size(); ++i) {
        const std::string pagemap = proc_path(i, "pagemap");
        for (Region& r : ctx.targets[i].regions) {
            bool written = false;
            try {
                written = pagemap_soft_dirty(fs_.pread_u64(pagemap, r.sampling_addr / kMinRegionSize * 8));
            } catch (const std::exception&) {
            }
            update_region_access_rate(r, written, ctx.attrs);
            max_nr = std::max(max_nr, r.nr_accesses);
        }
    }
    return max_nr;
}

}  // namespace damond
