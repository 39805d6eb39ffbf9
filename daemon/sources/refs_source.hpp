// Accesses seen through /proc/<pid>/clear_refs and smaps "Referenced:":
// reads and writes, but only a sum per mapping. Every sampling interval
// clears the young bits of the whole process, then reads which share of each
// mapping was referenced; a sampled page counts as accessed with that share
// as its probability, so nr_accesses estimates the mapping's access rate.
// Works on any kernel with /proc; it clears the bits reclaim uses too.
#pragma once

#include "sources/process_source.hpp"

namespace damond {

class RefsSource : public ProcessSource {
public:
    using ProcessSource::ProcessSource;

    std::string name() const override { return "refs"; }
    AccessSourceCaps caps() const override {
        return AccessSourceCaps{true, true, Granularity::Mapping, true, true, true};
    }
    void prepare_access_checks(DamonContext& ctx) override;
    uint32_t check_accesses(DamonContext& ctx) override;
};

}  // namespace damond
