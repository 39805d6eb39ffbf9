// DAMON_STAT's figures served by damond: when damond turns the kernel's
// DAMON_STAT module off to take DAMON over, it runs a context like the
// module's and publishes what the module published, refreshed as often
// (every 5 s), so that what read the module's parameters can read damond.
// From the same regions, memory by cgroup (monitor/cgroup_memory.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "manager/config.hpp"
#include "manager/manager.hpp"
#include "monitor/cgroup_memory.hpp"
#include "monitor/stat_figures.hpp"
#include "sources/page_cgroups.hpp"

namespace damond {

// Where memory by cgroup looks: cgroupfs and the page-to-cgroup file.
struct CgroupSources {
    std::string cgroup_root = "/sys/fs/cgroup";
    std::string kpagecgroup = "/proc/kpagecgroup";
};

// How memory by cgroup is counted: "probes" (the kernel's, on the cgroups
// named here, fixed when the context is made: a probe names its cgroup),
// "kpagecgroup", "off", or "unavailable" (why says why).
struct CgroupsPlan {
    std::string method;
    std::vector<std::string> probe_paths;
    std::string why;  // why not probes, or why none
};
CgroupsPlan plan_cgroups(const SystemCgroupsConfig& config, bool kernel_has_probes, const std::string& cgroup_root);

// One probe per cgroup: its pages pass, nothing else does.
std::vector<Probe> probes_for(const std::vector<std::string>& cgroup_paths);

class SystemStat {
public:
    static constexpr uint64_t kRefreshMs = 5000;  // as mm/damon/stat.c
    // Pages looked up per refresh at most, whatever samples_per_region says:
    // the lookups run on the manager's thread (about 1 us each natively).
    static constexpr uint64_t kMaxSampledPages = 16384;
    // `context`: the stand-in's name in `manager`; `now_us`: the clock of
    // refreshed_us().
    SystemStat(Manager& manager, std::string context, std::function<uint64_t()> now_us,
               SystemCgroupsConfig cgroups = {}, CgroupSources sources = {},
               CgroupsPlan plan = {"kpagecgroup", {}, ""});

    const std::string& context() const { return context_; }
    // Takes a snapshot of the context and computes the figures from it;
    // `done` runs once they are in (they stay as they were on an error).
    void refresh(std::function<void()> done = {});
    const StatFigures& figures() const { return figures_; }
    // When the figures were last computed (manager clock), 0 before.
    uint64_t refreshed_us() const { return refreshed_us_; }

    // Memory by cgroup as of the last refresh (empty when off or unavailable).
    const std::vector<CgroupFigure>& cgroups() const { return cgroups_; }
    size_t cgroups_left_out() const { return cgroups_left_out_; }
    const SystemCgroupsConfig& cgroups_config() const { return cgroups_config_; }
    // "probes", "kpagecgroup", "off" or "unavailable".
    std::string cgroups_method() const;
    // Why there are no cgroup figures ("" when there are, or before the first refresh).
    const std::string& cgroups_unavailable() const { return cgroups_unavailable_; }

private:
    void refresh_cgroups(const MonitorSnapshot& snapshot);

    Manager& manager_;
    std::string context_;
    std::function<uint64_t()> now_us_;
    StatFigures figures_;
    uint64_t refreshed_us_ = 0;
    SystemCgroupsConfig cgroups_config_;
    CgroupSources sources_;
    CgroupsPlan plan_;
    std::unique_ptr<PageCgroups> pages_;
    std::vector<CgroupFigure> cgroups_;
    size_t cgroups_left_out_ = 0;
    std::string cgroups_unavailable_;
};

}  // namespace damond
