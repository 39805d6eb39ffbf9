#include "sources/source_factory.hpp"

#include <sys/utsname.h>

#include "core/synthetic_source.hpp"
#include "errors.hpp"
#include "sources/page_idle_source.hpp"
#include "sources/refs_source.hpp"
#include "sources/soft_dirty_source.hpp"

namespace damond {

std::vector<SyntheticTarget> synthetic_targets(const ContextSpec& spec) {
    std::vector<SyntheticTarget> out;
    auto sets_of = [](const std::vector<WorkloadSet>& sets) {
        std::vector<SyntheticSet> out;
        for (const WorkloadSet& s : sets) out.push_back(SyntheticSet{s.range, static_cast<uint32_t>(s.access_bp), s.kind});
        return out;
    };
    for (const Target& t : spec.targets) {
        SyntheticTarget st;
        if (t.workload) {
            const SyntheticWorkload& w = *t.workload;
            st.seed = w.seed;
            if (w.phases.empty()) st.phases.push_back(SyntheticPhase{0, sets_of(w.sets)});
            for (const WorkloadPhase& p : w.phases) st.phases.push_back(SyntheticPhase{p.duration_samples, sets_of(p.sets)});
            st.defects = SyntheticDefects{w.defects.write_only, w.defects.mappings, static_cast<uint32_t>(w.defects.miss_bp)};
        }
        out.push_back(std::move(st));
    }
    return out;
}

std::vector<ProcessTarget> process_targets(const ContextSpec& spec) {
    std::vector<ProcessTarget> out;
    for (const Target& t : spec.targets)
        out.push_back(ProcessTarget{static_cast<pid_t>(t.pid_target.value_or(0)),
                                    spec.ops == Ops::Fvaddr || !t.regions.empty() ? t.regions : TargetRanges{}});
    return out;
}

namespace {

bool have_page_idle(const ProcFs& fs) { return fs.exists(PageIdleSource::kBitmap) && fs.writable(PageIdleSource::kBitmap); }

// Soft-dirty cannot be seen from a file's presence; the kernel's config says.
std::optional<bool> have_soft_dirty(const ProcFs& fs) {
    utsname u{};
    uname(&u);
    const auto config = fs.read_text(std::string("/boot/config-") + u.release);
    if (!config) return std::nullopt;
    if (config->find("CONFIG_MEM_SOFT_DIRTY=y") != std::string::npos) return true;
    return false;
}

}  // namespace

SourceProbe probe_process_source(const ProcFs& fs) {
    if (have_page_idle(fs))
        return {"page_idle", std::string("per-page accessed bits through ") + PageIdleSource::kBitmap};
    const std::string no_idle = std::string("page_idle unavailable (") + PageIdleSource::kBitmap +
                                " is missing: kernel without CONFIG_IDLE_PAGE_TRACKING)";
    if (fs.exists("/proc/self/clear_refs"))
        return {"refs", no_idle + "; refs sees reads and writes, one figure per mapping"};
    return {"", no_idle + "; refs unavailable (no /proc/<pid>/clear_refs)"};
}

SourceChoice make_access_source(const ContextSpec& spec, const ProcFs& fs) {
    if (spec.ops == Ops::Synthetic) {
        auto synthetic = std::make_unique<SyntheticSource>(synthetic_targets(spec));
        SyntheticSource* s = synthetic.get();
        return {std::move(synthetic), "synthetic", "ground truth from the spec's workload", std::nullopt,
                [s](const ContextSpec& next) { s->set_targets(synthetic_targets(next)); }};
    }
    if (!watches_process(spec.ops))
        throw DamondError(ErrorKind::NotSupported, std::string("ops: the in-process backend cannot monitor '") +
                                                       to_string(spec.ops) + "'; that needs the kernel backend");
    std::string name, reason;
    switch (spec.ops) {
    case Ops::Refs:
        name = "refs";
        reason = "asked for by ops";
        break;
    case Ops::PageIdle:
        if (!have_page_idle(fs))
            throw DamondError(ErrorKind::NotSupported, std::string("ops: page_idle needs ") + PageIdleSource::kBitmap +
                                                           ", which this kernel lacks (CONFIG_IDLE_PAGE_TRACKING)");
        name = "page_idle";
        reason = "asked for by ops";
        break;
    case Ops::SoftDirty: {
        const auto soft = have_soft_dirty(fs);
        if (soft && !*soft)
            throw DamondError(ErrorKind::NotSupported,
                              "ops: soft_dirty needs a kernel with CONFIG_MEM_SOFT_DIRTY, and this one has none");
        name = "soft_dirty";
        reason = soft ? "asked for by ops; sees writes only" : "asked for by ops; sees writes only (kernel config unknown)";
        break;
    }
    default: {
        const SourceProbe probe = probe_process_source(fs);
        if (probe.name.empty()) throw DamondError(ErrorKind::NotSupported, "ops: no access source works here: " + probe.reason);
        name = probe.name;
        reason = probe.reason;
    }
    }
    const auto targets = process_targets(spec);
    std::unique_ptr<ProcessSource> source;
    if (name == "page_idle") source = std::make_unique<PageIdleSource>(fs, targets);
    else if (name == "soft_dirty") source = std::make_unique<SoftDirtySource>(fs, targets);
    else source = std::make_unique<RefsSource>(fs, targets);
    ProcessSource* p = source.get();
    std::optional<std::vector<TargetRanges>> initial = p->initial_ranges();
    return {std::move(source), name, reason, std::move(initial),
            [p](const ContextSpec& next) { p->set_targets(process_targets(next)); }};
}

}  // namespace damond
