#include "manager/system_stat.hpp"

#include <unistd.h>

#include <algorithm>

#include "log.hpp"
#include "sources/cgroup_targets.hpp"

namespace damond {

SystemStat::SystemStat(Manager& manager, std::string context, std::function<uint64_t()> now_us,
                       SystemCgroupsConfig cgroups, CgroupSources sources)
    : manager_(manager),
      context_(std::move(context)),
      now_us_(std::move(now_us)),
      cgroups_config_(std::move(cgroups)),
      sources_(std::move(sources)) {}

void SystemStat::refresh(std::function<void()> done) {
    if (!manager_.has_context(context_)) {
        if (done) done();
        return;
    }
    manager_.snapshot_json(context_, [this, done](std::exception_ptr error, std::string) {
        if (error) log_warning("system-stat: no snapshot: " + error_text(error));
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
    if (!cgroups_config_.enabled) return;
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
    const CgroupMemory memory = cgroup_memory(
        snapshot, targets.paths.size(), {cgroups_config_.warm_ms, cgroups_config_.cold_ms}, per_region, page_size,
        [&](const std::vector<uint64_t>& pfns) {
            std::vector<int> owners;
            owners.reserve(pfns.size());
            for (uint64_t inode : pages_->inodes(pfns)) owners.push_back(inode ? targets.owner_of(inode) : -1);
            return owners;
        });
    cgroups_.clear();
    for (size_t i = 0; i < targets.paths.size(); ++i) cgroups_.push_back({targets.paths[i], memory.bytes[i]});
    cgroups_left_out_ = targets.left_out;
    cgroups_unavailable_.clear();
}

}  // namespace damond
