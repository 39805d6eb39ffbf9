// Everything damond knows, as metric families with stable names: what each
// context's monitor sees (manager figures), what happened to it (pauses,
// commits, time paused), apps and their switches, bus calls, kdamonds.
// docs/metrics.md lists them. Runs on the thread that owns the manager.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "manager/app_registry.hpp"
#include "manager/manager.hpp"
#include "manager/system_stat.hpp"
#include "metrics/exposition.hpp"
#include "monitor/cgroup_memory.hpp"
#include "monitor/stat_figures.hpp"

namespace damond {

struct MetricsOptions {
    std::string version;
    // Apps with series of their own (their app label, their contexts'): the
    // most recently switched this many; the others are counted in
    // damond_apps and damond_metrics_apps_left_out only.
    uint32_t max_apps = 32;
    // DAMON_STAT's figures when damond serves them (manager/system_stat.hpp).
    const StatFigures* system_stat = nullptr;
    // Memory by cgroup from the same context (at most system_cgroups.max).
    const std::vector<CgroupFigure>* cgroups = nullptr;
    uint64_t cgroups_left_out = 0;
};

// `options` with what `stat` (nullptr: none) serves as of its last refresh.
MetricsOptions with_system_stat(MetricsOptions options, const SystemStat* stat);

std::vector<MetricFamily> gather_metrics(const Manager& manager, const AppRegistry& apps,
                                         const MetricsOptions& options);

}  // namespace damond
