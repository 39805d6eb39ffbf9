// Per-page accesses through idle page tracking (CONFIG_IDLE_PAGE_TRACKING),
// the closest user-space equivalent of the kernel's vaddr check: translate
// the sampled page to its frame through /proc/<pid>/pagemap, mark the frame
// idle in /sys/kernel/mm/page_idle/bitmap, and at check time see whether an
// access cleared the mark. Reads and writes; needs root for the frame numbers.
#pragma once

#include "sources/process_source.hpp"

namespace damond {

class PageIdleSource : public ProcessSource {
public:
    using ProcessSource::ProcessSource;

    static constexpr const char* kBitmap = "/sys/kernel/mm/page_idle/bitmap";

    std::string name() const override { return "page_idle"; }
    AccessSourceCaps caps() const override {
        return AccessSourceCaps{true, true, Granularity::Page, true, false, true};
    }
    void prepare_access_checks(DamonContext& ctx) override;
    uint32_t check_accesses(DamonContext& ctx) override;

private:
    // The frame each region's sampled page sat in at prepare time, 0 if none.
    std::vector<std::vector<uint64_t>> frames_;
};

// A pagemap entry: bit 63 present, bits 0-54 the frame number, bit 55 soft-dirty.
inline bool pagemap_present(uint64_t e) { return e >> 63 & 1; }
inline uint64_t pagemap_frame(uint64_t e) { return e & ((1ULL << 55) - 1); }
inline bool pagemap_soft_dirty(uint64_t e) { return e >> 55 & 1; }

}  // namespace damond
