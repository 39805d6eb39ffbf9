#include "kernel/spec_writer.hpp"

#include <errno.h>
#include <signal.h>

#include <algorithm>

#include "base/errors.hpp"

namespace damond {

namespace {

std::string yn(bool b) { return b ? "Y" : "N"; }

void need(const KernelProbe& p, const char* feature, const std::string& field, const char* since) {
    if (p.features_known && !p.features.count(feature))
        throw DamondError(ErrorKind::NotSupported,
                          field + ": this kernel has no " + feature + " (Linux " + since + "+)");
}

// Writes only files that exist: older kernels lack some, and check_for_kernel
// has already refused a spec that needs one of them.
class Stager {
public:
    Stager(SysfsTree& t, std::string base) : t_(t), base_(std::move(base)) {}
    void put(const std::string& rel, const std::string& value) {
        const std::string path = base_ + "/" + rel;
        if (t_.exists(path)) t_.write(path, value);
    }
    void put(const std::string& rel, uint64_t value) { put(rel, std::to_string(value)); }
    bool has(const std::string& rel) const { return t_.exists(base_ + "/" + rel); }

private:
    SysfsTree& t_;
    std::string base_;
};

void stage_filter(Stager& s, const std::string& dir, const Filter& f) {
    s.put(dir + "/type", to_string(f.type));
    s.put(dir + "/matching", yn(f.matching));
    s.put(dir + "/allow", yn(f.allow));
    s.put(dir + "/memcg_path", f.memcg_path);
    s.put(dir + "/addr_start", f.addr_start);
    s.put(dir + "/addr_end", f.addr_end);
    s.put(dir + "/damon_target_idx", f.damon_target_idx);
    s.put(dir + "/min", f.min);
    s.put(dir + "/max", f.max);
}

void stage_scheme(Stager& s, const std::string& d, const Scheme& sc) {
    s.put(d + "/action", to_string(sc.action));
    s.put(d + "/access_pattern/sz/min", sc.access_pattern.sz.min);
    s.put(d + "/access_pattern/sz/max", sc.access_pattern.sz.max);
    s.put(d + "/access_pattern/nr_accesses/min", sc.access_pattern.nr_accesses.min);
    s.put(d + "/access_pattern/nr_accesses/max", sc.access_pattern.nr_accesses.max);
    s.put(d + "/access_pattern/age/min", sc.access_pattern.age.min);
    s.put(d + "/access_pattern/age/max", sc.access_pattern.age.max);
    s.put(d + "/apply_interval_us", sc.apply_interval_us);
    s.put(d + "/target_nid", std::to_string(sc.target_nid));
    s.put(d + "/quotas/ms", sc.quotas.ms);
    s.put(d + "/quotas/bytes", sc.quotas.bytes);
    s.put(d + "/quotas/reset_interval_ms", sc.quotas.reset_interval_ms);
    s.put(d + "/quotas/weights/sz_permil", sc.quotas.weights.sz_permil);
    s.put(d + "/quotas/weights/nr_accesses_permil", sc.quotas.weights.nr_accesses_permil);
    s.put(d + "/quotas/weights/age_permil", sc.quotas.weights.age_permil);
    s.put(d + "/quotas/goals/nr_goals", sc.quotas.goals.size());
    for (size_t g = 0; g < sc.quotas.goals.size(); ++g) {
        const std::string gd = d + "/quotas/goals/" + std::to_string(g);
        const QuotaGoal& goal = sc.quotas.goals[g];
        s.put(gd + "/target_metric", to_string(goal.target_metric));
        s.put(gd + "/target_value", goal.target_value);
        s.put(gd + "/current_value", goal.current_value);
        s.put(gd + "/nid", std::to_string(goal.nid));
        s.put(gd + "/path", goal.path);
    }
    s.put(d + "/watermarks/metric", to_string(sc.watermarks.metric));
    s.put(d + "/watermarks/interval_us", sc.watermarks.interval_us);
    s.put(d + "/watermarks/high", sc.watermarks.high);
    s.put(d + "/watermarks/mid", sc.watermarks.mid);
    s.put(d + "/watermarks/low", sc.watermarks.low);
    // 6.15+ splits filters into core (addr, target) and ops lists, keeping
    // each list's order; older kernels have one list.
    if (s.has(d + "/core_filters/nr_filters")) {
        std::vector<const Filter*> core, ops;
        for (const Filter& f : sc.filters)
            (f.type == FilterType::Addr || f.type == FilterType::Target ? core : ops).push_back(&f);
        s.put(d + "/core_filters/nr_filters", core.size());
        for (size_t i = 0; i < core.size(); ++i) stage_filter(s, d + "/core_filters/" + std::to_string(i), *core[i]);
        s.put(d + "/ops_filters/nr_filters", ops.size());
        for (size_t i = 0; i < ops.size(); ++i) stage_filter(s, d + "/ops_filters/" + std::to_string(i), *ops[i]);
        s.put(d + "/filters/nr_filters", 0);
    } else {
        s.put(d + "/filters/nr_filters", sc.filters.size());
        for (size_t i = 0; i < sc.filters.size(); ++i)
            stage_filter(s, d + "/filters/" + std::to_string(i), sc.filters[i]);
    }
}

}  // namespace

void check_for_kernel(const ContextSpec& spec, const KernelProbe& p) {
    if (is_inprocess_source(spec.ops))
        throw DamondError(ErrorKind::NotSupported,
                          std::string("ops: '") + to_string(spec.ops) + "' is an in-process source, not a kernel one");
    const std::string ops = to_string(spec.ops);
    if (!p.avail_operations.empty() &&
        std::find(p.avail_operations.begin(), p.avail_operations.end(), ops) == p.avail_operations.end())
        throw DamondError(
            ErrorKind::NotSupported, "ops: this kernel has no '" + ops + "' operations (it has " + [&] {
                std::string all;
                for (const auto& o : p.avail_operations) all += (all.empty() ? "" : ", ") + o;
                return all;
            }() + ")");
    if (spec.intervals.intervals_goal.aggrs) need(p, "intervals_goal", "intervals.intervals_goal", "6.15");
    if (!spec.probes.empty()) need(p, "probes", "probes", "7.2");
    for (size_t i = 0; i < spec.targets.size(); ++i) {
        const Target& t = spec.targets[i];
        // ESRCH only: EPERM means the process exists but damond lacks
        // CAP_KILL over it (the unit leaves CAP_KILL out on purpose).
        if (t.pid_target && ::kill(static_cast<pid_t>(*t.pid_target), 0) != 0 && errno == ESRCH)
            throw DamondError(
                ErrorKind::InvalidSpec,
                "targets[" + std::to_string(i) + "].pid_target: no process with pid " + std::to_string(*t.pid_target));
    }
    for (size_t i = 0; i < spec.schemes.size(); ++i) {
        const Scheme& s = spec.schemes[i];
        const std::string path = "schemes[" + std::to_string(i) + "]";
        if (s.apply_interval_us) need(p, "apply_interval_us", path + ".apply_interval_us", "6.7");
        if (!s.quotas.goals.empty()) need(p, "quota_goals", path + ".quotas.goals", "6.8");
        if (!s.filters.empty() && !p.features.count("filters") && !p.features.count("core_filters"))
            need(p, "filters", path + ".filters", "6.3");
        if (s.target_nid != -1) need(p, "target_nid", path + ".target_nid", "6.11");
    }
}

void stage_spec(SysfsTree& tree, uint32_t kdamond, const ContextSpec& spec, const std::vector<Scheme>& extra_schemes) {
    const std::string kd = "kdamonds/" + std::to_string(kdamond);
    tree.write(kd + "/contexts/nr_contexts", "1");
    Stager s(tree, kd + "/contexts/0");
    s.put("operations", to_string(spec.ops));
    s.put("monitoring_attrs/intervals/sample_us", spec.intervals.sample_us);
    s.put("monitoring_attrs/intervals/aggr_us", spec.intervals.aggr_us);
    s.put("monitoring_attrs/intervals/update_us", spec.intervals.update_us);
    const IntervalsGoal& g = spec.intervals.intervals_goal;
    s.put("monitoring_attrs/intervals/intervals_goal/access_bp", g.access_bp);
    s.put("monitoring_attrs/intervals/intervals_goal/aggrs", g.aggrs);
    s.put("monitoring_attrs/intervals/intervals_goal/min_sample_us", g.min_sample_us);
    s.put("monitoring_attrs/intervals/intervals_goal/max_sample_us", g.max_sample_us);
    // min before max could be refused by neither file (staging checks
    // nothing), but keep them consistent at every step anyway.
    s.put("monitoring_attrs/nr_regions/max", spec.nr_regions.max);
    s.put("monitoring_attrs/nr_regions/min", spec.nr_regions.min);
    // Always, where the kernel has them: a commit without probes removes
    // the last spec's. A probe's filter names its cgroup in "path".
    s.put("monitoring_attrs/probes/nr_probes", spec.probes.size());
    for (size_t i = 0; i < spec.probes.size(); ++i) {
        const std::string pd = "monitoring_attrs/probes/" + std::to_string(i) + "/filters";
        const std::vector<Filter>& filters = spec.probes[i].filters;
        s.put(pd + "/nr_filters", filters.size());
        for (size_t f = 0; f < filters.size(); ++f) {
            const std::string fd = pd + "/" + std::to_string(f);
            s.put(fd + "/type", to_string(filters[f].type));
            s.put(fd + "/matching", yn(filters[f].matching));
            s.put(fd + "/allow", yn(filters[f].allow));
            s.put(fd + "/path", filters[f].memcg_path);
        }
    }

    s.put("targets/nr_targets", spec.targets.size());
    for (size_t i = 0; i < spec.targets.size(); ++i) {
        const std::string td = "targets/" + std::to_string(i);
        const Target& t = spec.targets[i];
        if (t.pid_target) s.put(td + "/pid_target", std::to_string(*t.pid_target));
        s.put(td + "/regions/nr_regions", t.regions.size());
        for (size_t r = 0; r < t.regions.size(); ++r) {
            const std::string rd = td + "/regions/" + std::to_string(r);
            // end first: the new start may lie past the old end.
            s.put(rd + "/end", t.regions[r].end);
            s.put(rd + "/start", t.regions[r].start);
        }
    }
    std::vector<Scheme> schemes = spec.schemes;
    schemes.insert(schemes.end(), extra_schemes.begin(), extra_schemes.end());
    s.put("schemes/nr_schemes", schemes.size());
    for (size_t i = 0; i < schemes.size(); ++i) stage_scheme(s, "schemes/" + std::to_string(i), schemes[i]);
    s.put("pause", spec.pause ? "Y" : "N");
}

}  // namespace damond
