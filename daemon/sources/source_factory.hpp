// Picks the access source for a context: the one its ops name, or for
// vaddr/fvaddr the best this machine offers, found by looking at files
// (stat only, never a trial write).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/access_source.hpp"
#include "core/synthetic_source.hpp"
#include "sources/proc_fs.hpp"
#include "sources/process_source.hpp"
#include "spec/context_spec.hpp"

namespace damond {

// A source and what the monitor needs of it beyond AccessSource, bound here
// where its type is known (the way a damon_operations' init and target
// callbacks belong to its ops): the monitor never asks which source it has.
struct SourceChoice {
    std::unique_ptr<AccessSource> source;
    std::string name;
    std::string reason;  // why this one, for the context's AccessSourceReason
    // ops->init: the regions each target starts with; none for the spec's
    // own ranges (a process source starts from the process's mappings).
    std::optional<std::vector<TargetRanges>> initial_ranges;
    // Points the source at a spec's targets, before the core commits the
    // spec: a target process that is missing fails the commit before
    // anything has changed.
    std::function<void(const ContextSpec&)> retarget;
};

struct SourceProbe {
    std::string name;  // "" if none fits
    std::string reason;
};

// The best real-process source: page_idle if the kernel has it, else refs.
SourceProbe probe_process_source(const ProcFs& fs);

// Throws DamondError: NotSupported when the machine lacks the source,
// InvalidSpec when a target process does not exist.
SourceChoice make_access_source(const ContextSpec& spec, const ProcFs& fs);

// What the sources need to know of a spec's targets.
std::vector<SyntheticTarget> synthetic_targets(const ContextSpec& spec);
std::vector<ProcessTarget> process_targets(const ContextSpec& spec);

}  // namespace damond
