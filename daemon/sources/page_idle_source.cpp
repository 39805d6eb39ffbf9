#include "sources/page_idle_source.hpp"

#include <algorithm>
#include <map>

namespace damond {

void PageIdleSource::prepare_access_checks(DamonContext& ctx) {
    frames_.assign(ctx.targets.size(), {});
    // Bits to set, by bitmap word: one write per word marks every sampled
    // frame in it idle (1 bits mark, 0 bits change nothing).
    std::map<uint64_t, uint64_t> words;
    for (size_t i = 0; i < targets_.size() && i < ctx.targets.size(); ++i) {
        const std::string pagemap = proc_path(i, "pagemap");
        for (Region& r : ctx.targets[i].regions) {
            r.sampling_addr = ctx.rng.range(r.start, r.end);
            uint64_t frame = 0;
            try {
                const uint64_t entry = fs_.pread_u64(pagemap, r.sampling_addr / kMinRegionSize * 8);
                if (pagemap_present(entry)) frame = pagemap_frame(entry);
            } catch (const std::exception&) {
                frame = 0;
            }
            if (frame) words[frame / 64] |= 1ULL << (frame % 64);
            frames_[i].push_back(frame);
        }
    }
    for (const auto& [word, bits] : words) {
        try {
            fs_.pwrite_u64(kBitmap, word * 8, bits);
        } catch (const std::exception&) {
        }
    }
}

uint32_t PageIdleSource::check_accesses(DamonContext& ctx) {
    uint32_t max_nr = 0;
    for (size_t i = 0; i < ctx.targets.size(); ++i) {
        std::vector<Region>& regions = ctx.targets[i].regions;
        for (size_t ri = 0; ri < regions.size(); ++ri) {
            const uint64_t frame = i < frames_.size() && ri < frames_[i].size() ? frames_[i][ri] : 0;
            bool accessed = false;
            if (frame) {
                try {
                    accessed = !(fs_.pread_u64(kBitmap, frame / 64 * 8) >> (frame % 64) & 1);
                } catch (const std::exception&) {
                }
            }
            update_region_access_rate(regions[ri], accessed, ctx.attrs);
            max_nr = std::max(max_nr, regions[ri].nr_accesses);
        }
    }
    return max_nr;
}

}  // namespace damond
