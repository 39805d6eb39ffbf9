#include "sources/source_factory.hpp"

#include <sys/utsname.h>

#include "base/errors.hpp"
#include "core/synthetic_source.hpp"
#include "sources/page_idle_source.hpp"
#include "sources/refs_source.hpp"
#include "sources/soft_dirty_source.hpp"

namespace damond {

std::vector<SyntheticTarget> synthetic_targets(const ContextSpec& spec) {
    std::vector<SyntheticTarget> out;
    auto sets_of = [](const std::vector<WorkloadSet>& sets) {
        std::vector<SyntheticSet> out;
        for (const WorkloadSet& s : sets)
            out.push_back(SyntheticSet{s.range, static_cast<uint32_t>(s.access_bp), s.kind});
        return out;
    };
    for (const Target& t : spec.targets) {
        SyntheticTarget st;
        if (t.workload) {
            const SyntheticWorkload& w = *t.workload;
            st.seed = w.seed;
            if (w.phases.empty()) st.phases.push_back(SyntheticPhase{0, sets_of(w.sets)});
            for (const WorkloadPhase& p : w.phases)
                st.phases.push_back(SyntheticPhase{p.duration_samples, sets_of(p.sets)});
            st.defects =
                SyntheticDefects{w.defects.write_only, w.defects.mappings, static_cast<uint32_t>(w.defects.miss_bp)};
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

// Soft-dirty cannot be seen from a file's presence; the kernel's config says.
std::optional<bool> have_soft_dirty(const ProcFs& fs) {
    utsname u{};
    uname(&u);
    const auto config = fs.read_text(std::string("/boot/config-") + u.release);
    if (!config) return std::nullopt;
    return config->find("CONFIG_MEM_SOFT_DIRTY=y") != std::string::npos;
}

// The real-process sources, best first. vaddr and fvaddr take the first
// `automatic` one that works here; ops naming one take it or fail saying
// why it does not work here.
struct ProcessSourceKind {
    Ops ops;
    const char* name;
    bool automatic;
    // "" when it works on this machine, else why not.
    std::string (*unavailable)(const ProcFs& fs);
    // What it sees, for AccessSourceReason.
    std::string (*sees)(const ProcFs& fs);
    std::unique_ptr<ProcessSource> (*make)(const ProcFs& fs, const std::vector<ProcessTarget>& targets);
};

const std::vector<ProcessSourceKind>& process_source_kinds() {
    static const std::vector<ProcessSourceKind> kinds = {
        {Ops::PageIdle, "page_idle", true,
         [](const ProcFs& fs) -> std::string {
             if (fs.exists(PageIdleSource::kBitmap) && fs.writable(PageIdleSource::kBitmap)) return "";
             return std::string("page_idle unavailable (") + PageIdleSource::kBitmap +
                    " is missing: kernel without CONFIG_IDLE_PAGE_TRACKING)";
         },
         [](const ProcFs&) { return std::string("per-page accessed bits through ") + PageIdleSource::kBitmap; },
         [](const ProcFs& fs, const std::vector<ProcessTarget>& t) -> std::unique_ptr<ProcessSource> {
             return std::make_unique<PageIdleSource>(fs, t);
         }},
        {Ops::Refs, "refs", true,
         [](const ProcFs& fs) -> std::string {
             return fs.exists("/proc/self/clear_refs") ? "" : "refs unavailable (no /proc/<pid>/clear_refs)";
         },
         [](const ProcFs&) { return std::string("refs sees reads and writes, one figure per mapping"); },
         [](const ProcFs& fs, const std::vector<ProcessTarget>& t) -> std::unique_ptr<ProcessSource> {
             return std::make_unique<RefsSource>(fs, t);
         }},
        {Ops::SoftDirty, "soft_dirty", false,
         [](const ProcFs& fs) -> std::string {
             const auto soft = have_soft_dirty(fs);
             return soft && !*soft ? "soft_dirty needs a kernel with CONFIG_MEM_SOFT_DIRTY, and this one has none" : "";
         },
         [](const ProcFs& fs) {
             return std::string(have_soft_dirty(fs) ? "sees writes only" : "sees writes only (kernel config unknown)");
         },
         [](const ProcFs& fs, const std::vector<ProcessTarget>& t) -> std::unique_ptr<ProcessSource> {
             return std::make_unique<SoftDirtySource>(fs, t);
         }},
    };
    return kinds;
}

}  // namespace

SourceProbe probe_process_source(const ProcFs& fs) {
    std::string why_not;
    for (const ProcessSourceKind& k : process_source_kinds()) {
        if (!k.automatic) continue;
        const std::string missing = k.unavailable(fs);
        if (missing.empty()) return {k.name, (why_not.empty() ? "" : why_not + "; ") + k.sees(fs)};
        why_not += (why_not.empty() ? "" : "; ") + missing;
    }
    return {"", why_not};
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
    const ProcessSourceKind* kind = nullptr;
    std::string reason;
    for (const ProcessSourceKind& k : process_source_kinds())
        if (k.ops == spec.ops) kind = &k;
    if (kind) {  // asked for by name
        if (const std::string missing = kind->unavailable(fs); !missing.empty())
            throw DamondError(ErrorKind::NotSupported, "ops: " + missing);
        reason = "asked for by ops; " + kind->sees(fs);
    } else {  // vaddr, fvaddr: the best this machine offers
        const SourceProbe probe = probe_process_source(fs);
        if (probe.name.empty())
            throw DamondError(ErrorKind::NotSupported, "ops: no access source works here: " + probe.reason);
        for (const ProcessSourceKind& k : process_source_kinds())
            if (probe.name == k.name) kind = &k;
        reason = probe.reason;
    }
    std::unique_ptr<ProcessSource> source = kind->make(fs, process_targets(spec));
    ProcessSource* p = source.get();
    std::optional<std::vector<TargetRanges>> initial = p->initial_ranges();
    return {std::move(source), kind->name, reason, std::move(initial),
            [p](const ContextSpec& next) { p->set_targets(process_targets(next)); }};
}

}  // namespace damond
