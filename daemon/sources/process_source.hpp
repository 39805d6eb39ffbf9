// The part of every real-process access source that is the same, as the
// kernel's vaddr ops: initial regions around the two biggest gaps of the
// address space, their refresh every update_us, a target that is valid while
// its process lives, and DAMOS actions through process_madvise. Subclasses
// only say how one sampled page is checked.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/access_source.hpp"
#include "core/damon_core.hpp"
#include "sources/proc_fs.hpp"
#include "sources/proc_maps.hpp"
#include "sources/process_handle.hpp"

namespace damond {

struct ProcessTarget {
    pid_t pid = 0;
    TargetRanges fixed_ranges;  // empty: follow the mappings (vaddr), else fvaddr
};

class ProcessSource : public AccessSource {
public:
    // Throws DamondError(InvalidSpec) naming the target whose process does not exist.
    ProcessSource(ProcFs fs, const std::vector<ProcessTarget>& targets);

    // Opens handles for targets whose pid changed; throws like the constructor
    // and then changes nothing.
    void set_targets(const std::vector<ProcessTarget>& targets);
    // The ranges each target starts with: its fixed ranges, or the three
    // regions of its current mappings.
    std::vector<TargetRanges> initial_ranges() const;
    // "process 123 exited" for the first target gone, "" if all live.
    std::string gone_reason() const override;

    void update(DamonContext& ctx) override;
    bool target_valid(size_t target) override;
    uint64_t apply_scheme(DamonContext& ctx, size_t target, const Region& r, const DamosScheme& s,
                          uint64_t& sz_ops_filter_passed) override;

protected:
    std::string proc_path(size_t target, const char* file) const;
    std::vector<Vma> read_mappings(size_t target, const char* file) const;
    // The target's mappings as of sampling interval `sample`: read once per
    // interval, however many regions and schemes act in it.
    const std::vector<Vma>& mappings_at(size_t target, uint64_t sample);

    ProcFs fs_;
    struct Entry {
        ProcessTarget spec;
        std::unique_ptr<ProcessHandle> handle;
        std::vector<Vma> maps;
        uint64_t maps_sample = UINT64_MAX;
    };
    std::vector<Entry> targets_;
};

}  // namespace damond
