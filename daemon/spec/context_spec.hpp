// A monitoring context described in DAMON's own vocabulary.
//
// Field names follow the kernel's sysfs file names under
// /sys/kernel/mm/damon/admin/kdamonds/<K>/contexts/<C>/, so a spec reads the
// same to someone who knows the sysfs tree. Defaults are the kernel's.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/access_kind.hpp"
#include "core/damos_params.hpp"

namespace damond {

// The kernel's operation sets, plus the in-process core's access sources:
// synthetic (ground truth), and refs, page_idle, soft_dirty on a process.
enum class Ops { Vaddr, Fvaddr, Paddr, Synthetic, Refs, PageIdle, SoftDirty };

// What the in-process core can run, whatever the kernel accepts: ranges end
// at the last page boundary (regions are page-aligned), an interval is at
// most 2^40 us (about 12 days), and an aggregation at most 429496 samples
// (nr_accesses x 10000 fits in 32 bits, like the kernel's nr_accesses_bp).
inline constexpr uint64_t kMaxAddressEnd = UINT64_MAX - 4095;
inline constexpr uint64_t kMaxIntervalUs = uint64_t{1} << 40;
inline constexpr uint64_t kMaxSamplesPerAggregation = UINT32_MAX / 10000;

struct Intervals {
    uint64_t sample_us = 5000;
    uint64_t aggr_us = 100000;
    uint64_t update_us = 60000000;
    IntervalsGoal intervals_goal;
    bool operator==(const Intervals&) const = default;
};

struct NrRegions {
    uint64_t min = 10;
    uint64_t max = 1000;
    bool operator==(const NrRegions&) const = default;
};

// A set of pages the synthetic source touches, each page with probability
// access_bp/10000 in every sampling interval, by reads, writes or both.
struct WorkloadSet {
    AddrRange range;
    uint64_t access_bp = 0;
    AccessKind kind = AccessKind::Both;
    bool operator==(const WorkloadSet&) const = default;
};

struct WorkloadPhase {
    uint64_t duration_samples = 0;  // 0: forever
    std::vector<WorkloadSet> sets;
    bool operator==(const WorkloadPhase&) const = default;
};

// Real sources' defects, reproduced on purpose.
struct WorkloadDefects {
    bool write_only = false;
    std::vector<AddrRange> mappings;  // one average figure per mapping
    uint64_t miss_bp = 0;
    bool operator==(const WorkloadDefects&) const = default;
};

// Ground truth for the in-process synthetic source (not a kernel concept):
// either fixed `sets`, or `phases` cycled through.
struct SyntheticWorkload {
    uint64_t seed = 0;
    std::vector<WorkloadSet> sets;
    std::vector<WorkloadPhase> phases;
    WorkloadDefects defects;
    bool operator==(const SyntheticWorkload&) const = default;
};

struct Target {
    std::optional<int64_t> pid_target;          // vaddr and fvaddr
    std::vector<AddrRange> regions;             // empty: keep current regions on commit
    std::optional<SyntheticWorkload> workload;  // synthetic ops only
    bool operator==(const Target&) const = default;
};

// A data-attribute probe (Linux 7.2+, paddr): at every sample the kernel
// asks it of the sampled page, and counts per region and aggregation the
// samples that pass its filters (anon or memcg only), as
// tried_regions/<R>/probes/<P>/hits.
inline constexpr size_t kMaxProbes = 4;  // DAMON_MAX_PROBES
struct Probe {
    std::vector<Filter> filters;
    bool operator==(const Probe&) const = default;
};

struct ContextSpec {
    Ops ops = Ops::Synthetic;
    uint64_t seed = 0;  // in-process core: seeds region sampling and splits
    Intervals intervals;
    NrRegions nr_regions;
    std::vector<Target> targets;
    std::vector<Scheme> schemes;
    std::vector<Probe> probes;
    bool pause = false;
    bool operator==(const ContextSpec&) const = default;
};

const char* to_string(Ops ops);
// Ops that watch a process (and so need targets[].pid_target).
bool watches_process(Ops ops);
// Ops only damond's in-process core offers: synthetic, refs, page_idle, soft_dirty.
bool is_inprocess_source(Ops ops);

}  // namespace damond
