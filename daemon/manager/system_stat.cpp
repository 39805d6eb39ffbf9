#include "manager/system_stat.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/log.hpp"
#include "sources/cgroup_targets.hpp"

namespace damond {

CgroupsPlan plan_cgroups(const SystemCgroupsConfig& config, bool kernel_has_probes, const std::string& cgroup_root) {
    if (!config.enabled) return {"off", {}, ""};
    if (config.method == "kpagecgroup") return {"kpagecgroup", {}, ""};
    // The kernel's memcg probe matches the cgroup a page is charged to
    // exactly, and a context has at most 4 probes: only named cgroups, few
    // enough, with no cgroup below them.
    std::string why;
    const CgroupTargets named = find_cgroup_targets(cgroup_root, config.paths, kMaxProbes);
    if (!kernel_has_probes)
        why = "this kernel has no data-attribute probes (Linux 7.2+)";
    else if (config.paths.empty())
        why = "system_cgroups.paths names no cgroups (probes are per cgroup)";
    else if (named.left_out)
        why = "more cgroups than the kernel's 4 probes a context";
    else if (named.paths.empty())
        why = "none of system_cgroups.paths exists";
    else
        for (const std::string& p : named.paths) {
            std::error_code ec;
            for (std::filesystem::directory_iterator it(cgroup_root + p, ec), end; !ec && it != end; it.increment(ec))
                if (it->is_directory(ec)) why = p + " has cgroups below it, which a probe does not count";
        }
    if (why.empty()) return {"probes", named.paths, ""};
    if (config.method == "probes") return {"unavailable", {}, "probes: " + why};
    return {"kpagecgroup", {}, "not probes: " + why};
}

std::vector<Probe> probes_for(const std::vector<std::string>& cgroup_paths) {
    std::vector<Probe> out;
    for (const std::string& p : cgroup_paths) {
        Filter f;
        f.type = FilterType::Memcg;
        f.matching = true;
        f.allow = true;
        f.memcg_path = p;
        out.push_back({{f}});
    }
    return out;
}

SystemStat::SystemStat(Manager& manager, std::string context, std::function<uint64_t()> now_us,
                       SystemCgroupsConfig cgroups, CgroupSources sources, CgroupsPlan plan)
    : manager_(manager),
      context_(std::move(context)),
      now_us_(std::move(now_us)),
      cgroups_config_(std::move(cgroups)),
      sources_(std::move(sources)),
      plan_(std::move(plan)) {
    if (plan_.method == "unavailable") cgroups_unavailable_ = plan_.why;
}

std::string SystemStat::cgroups_method() const {
    if (plan_.method == "kpagecgroup" && !cgroups_unavailable_.empty()) return "unavailable";
    return plan_.method;
}

void SystemStat::refresh(std::function<void()> done) {
    if (!manager_.has_context(context_)) {
        if (done) done();
        return;
    }
    manager_.snapshot_json(context_, [this, done](std::exception_ptr error, std::string) {
        if (error)
            log_warning("system-stat: no snapshot: " + error_text(error));
        else if (manager_.has_context(context_)) {
            const MonitorSnapshot& snapshot = manager_.last_snapshot(context_);
            figures_ = stat_figures(snapshot);
            refresh_cgroups(snapshot);
            refreshed_us_ = now_us_();
        }
        if (done) done();
    });
}

void SystemStat::refresh_cgroups(const MonitorSnapshot& snapshot) {
    const IdleThresholds thresholds{cgroups_config_.warm_ms, cgroups_config_.cold_ms};
    if (plan_.method == "probes") {
        const CgroupMemory memory = cgroup_memory_from_probes(snapshot, plan_.probe_paths.size(), thresholds);
        cgroups_.clear();
        for (size_t i = 0; i < plan_.probe_paths.size(); ++i)
            cgroups_.push_back({plan_.probe_paths[i], memory.bytes[i]});
        return;
    }
    if (plan_.method != "kpagecgroup") return;
    if (!pages_) {
        try {
            pages_ = std::make_unique<PageCgroups>(sources_.kpagecgroup);
        } catch (const std::exception& e) {
            if (cgroups_unavailable_.empty()) log_warning(std::string("system-stat: no memory by cgroup: ") + e.what());
            cgroups_unavailable_ = e.what();
            return;
        }
    }
    const CgroupTargets targets = find_cgroup_targets(sources_.cgroup_root, cgroups_config_.paths, cgroups_config_.max);
    size_t regions = 0;
    for (const auto& t : snapshot.targets) regions += t.size();
    const uint64_t per_region = std::max<uint64_t>(
        1, std::min<uint64_t>(cgroups_config_.samples_per_region, kMaxSampledPages / std::max<size_t>(regions, 1)));
    const auto page_size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const CgroupMemory memory = cgroup_memory(snapshot, targets.paths.size(), thresholds, per_region, page_size,
                                              [&](const std::vector<uint64_t>& pfns) {
                                                  std::vector<int> owners;
                                                  owners.reserve(pfns.size());
                                                  for (uint64_t inode : pages_->inodes(pfns))
                                                      owners.push_back(inode ? targets.owner_of(inode) : -1);
                                                  return owners;
                                              });
    cgroups_.clear();
    for (size_t i = 0; i < targets.paths.size(); ++i) cgroups_.push_back({targets.paths[i], memory.bytes[i]});
    cgroups_left_out_ = targets.left_out;
    cgroups_unavailable_.clear();
}

}  // namespace damond
