#include "sources/process_source.hpp"

#include <algorithm>
#include <system_error>

#include "base/errors.hpp"

namespace damond {

namespace {

std::unique_ptr<ProcessHandle> open_target(const ProcessTarget& t, size_t index) {
    try {
        return std::make_unique<ProcessHandle>(t.pid);
    } catch (const std::system_error& e) {
        const std::string path = "targets[" + std::to_string(index) + "].pid_target";
        if (e.code().value() == ESRCH)
            throw DamondError(ErrorKind::InvalidSpec, path + ": no process with pid " + std::to_string(t.pid));
        throw DamondError(ErrorKind::Failed, path + ": cannot open process " + std::to_string(t.pid) + ": " + e.what());
    }
}

// The DAMOS filters a process source evaluates itself (anon); the core
// handles addr and target. First match decides; with none, the opposite of
// the last one's verdict.
bool ops_filters_allow(const std::vector<Filter>& filters, const Vma& vma) {
    const Filter* last = nullptr;
    for (const Filter& f : filters) {
        if (f.type != FilterType::Anon) continue;
        last = &f;
        const bool anon = !vma.file_backed();
        if (anon == f.matching) return f.allow;
    }
    return last ? !last->allow : true;
}

}  // namespace

ProcessSource::ProcessSource(ProcFs fs, const std::vector<ProcessTarget>& targets) : fs_(std::move(fs)) {
    set_targets(targets);
}

void ProcessSource::set_targets(const std::vector<ProcessTarget>& targets) {
    std::vector<Entry> next;
    for (size_t i = 0; i < targets.size(); ++i) {
        Entry e;
        e.spec = targets[i];
        if (i < targets_.size() && targets_[i].spec.pid == targets[i].pid)
            e.handle = std::move(targets_[i].handle);
        else
            e.handle = open_target(targets[i], i);
        next.push_back(std::move(e));
    }
    targets_ = std::move(next);
}

std::string ProcessSource::proc_path(size_t target, const char* file) const {
    return "/proc/" + std::to_string(targets_[target].spec.pid) + "/" + file;
}

std::vector<Vma> ProcessSource::read_mappings(size_t target, const char* file) const {
    const auto text = fs_.read_text(proc_path(target, file));
    return text ? parse_maps(*text) : std::vector<Vma>{};
}

const std::vector<Vma>& ProcessSource::mappings_at(size_t target, uint64_t sample) {
    Entry& e = targets_[target];
    if (e.maps_sample != sample) {
        e.maps = read_mappings(target, "maps");
        e.maps_sample = sample;
    }
    return e.maps;
}

std::vector<TargetRanges> ProcessSource::initial_ranges() const {
    std::vector<TargetRanges> out;
    for (size_t i = 0; i < targets_.size(); ++i) {
        if (!targets_[i].spec.fixed_ranges.empty()) {
            out.push_back(targets_[i].spec.fixed_ranges);
            continue;
        }
        const auto three = three_regions(read_mappings(i, "maps"));
        out.push_back(three ? TargetRanges(three->begin(), three->end()) : TargetRanges{});
    }
    return out;
}

std::string ProcessSource::gone_reason() const {
    for (const Entry& e : targets_)
        if (!e.handle->alive()) return "target process " + std::to_string(e.spec.pid) + " exited";
    return "";
}

void ProcessSource::update(DamonContext& ctx) {
    // damon_va_update: follow the address space as it grows and shrinks.
    for (size_t i = 0; i < targets_.size() && i < ctx.targets.size(); ++i) {
        if (!targets_[i].spec.fixed_ranges.empty() || !targets_[i].handle->alive()) continue;
        const auto three = three_regions(read_mappings(i, "maps"));
        if (three) set_regions(ctx.targets[i], TargetRanges(three->begin(), three->end()));
    }
}

bool ProcessSource::target_valid(size_t target) { return target < targets_.size() && targets_[target].handle->alive(); }

uint64_t ProcessSource::apply_scheme(DamonContext& ctx, size_t target, const Region& r, const DamosScheme& s,
                                     uint64_t& sz_ops_filter_passed) {
    sz_ops_filter_passed = 0;
    if (target >= targets_.size()) return 0;
    // Cut the region at mapping edges, so holes between mappings do not fail
    // the call, and keep what the filters allow.
    std::vector<AddrRange> ranges;
    for (const Vma& v : mappings_at(target, ctx.passed_sample_intervals)) {
        const uint64_t start = std::max(v.start, r.start), end = std::min(v.end, r.end);
        if (start >= end || !ops_filters_allow(s.params.filters, v)) continue;
        ranges.push_back({start, end});
        sz_ops_filter_passed += end - start;
    }
    if (s.params.action == Action::Stat || ranges.empty()) return 0;
    try {
        return targets_[target].handle->madvise(ranges, s.params.action);
    } catch (const std::system_error&) {
        // Unmapped holes and vanished processes: nothing applied.
        return 0;
    }
}

}  // namespace damond
