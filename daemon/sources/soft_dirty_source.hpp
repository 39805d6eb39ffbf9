// Per-page writes through soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): "4" to
// /proc/<pid>/clear_refs clears them for the whole process, and bit 55 of the
// sampled page's pagemap entry says whether it was written since. Blind to
// reads, so it is never chosen unless asked for by name.
#pragma once

#include "sources/process_source.hpp"

namespace damond {

class SoftDirtySource : public ProcessSource {
public:
    using ProcessSource::ProcessSource;

    std::string name() const override { return "soft_dirty"; }
    AccessSourceCaps caps() const override {
        return AccessSourceCaps{false, true, Granularity::Page, true, false, true};
    }
    void prepare_access_checks(DamonContext& ctx) override;
    uint32_t check_accesses(DamonContext& ctx) override;
};

}  // namespace damond
