#include "kernel/sysfs_layout.hpp"

namespace damond {

const std::vector<SysfsFile>& sysfs_files() {
    using L = SysfsLevel;
    static const std::vector<SysfsFile> files = {
        {L::Kdamond, "state", 5, 18, "off", true},
        {L::Kdamond, "pid", 5, 18, "-1", false},
        {L::Kdamond, "refresh_ms", 6, 17, "0", true},
        {L::Kdamond, "contexts/nr_contexts", 5, 18, "0", true},

        {L::Context, "avail_operations", 5, 19, "vaddr\nfvaddr\npaddr", false},
        {L::Context, "operations", 5, 18, "vaddr", true},
        {L::Context, "addr_unit", 6, 18, "1", true},
        {L::Context, "pause", 7, 2, "N", true},
        {L::Context, "monitoring_attrs/intervals/sample_us", 5, 18, "5000", true},
        {L::Context, "monitoring_attrs/intervals/aggr_us", 5, 18, "100000", true},
        {L::Context, "monitoring_attrs/intervals/update_us", 5, 18, "60000000", true},
        {L::Context, "monitoring_attrs/intervals/intervals_goal/access_bp", 6, 15, "0", true},
        {L::Context, "monitoring_attrs/intervals/intervals_goal/aggrs", 6, 15, "0", true},
        {L::Context, "monitoring_attrs/intervals/intervals_goal/min_sample_us", 6, 15, "0", true},
        {L::Context, "monitoring_attrs/intervals/intervals_goal/max_sample_us", 6, 15, "0", true},
        {L::Context, "monitoring_attrs/nr_regions/min", 5, 18, "10", true},
        {L::Context, "monitoring_attrs/nr_regions/max", 5, 18, "1000", true},
        {L::Context, "monitoring_attrs/probes/nr_probes", 7, 2, "0", true},
        {L::Context, "targets/nr_targets", 5, 18, "0", true},
        {L::Context, "schemes/nr_schemes", 5, 18, "0", true},

        {L::Target, "pid_target", 5, 18, "0", true},
        {L::Target, "obsolete_target", 6, 19, "N", true},
        {L::Target, "regions/nr_regions", 5, 18, "0", true},

        {L::Region, "start", 5, 18, "0", true},
        {L::Region, "end", 5, 18, "0", true},

        {L::Scheme, "action", 5, 18, "stat", true},
        {L::Scheme, "target_nid", 6, 11, "-1", true},
        {L::Scheme, "apply_interval_us", 6, 7, "0", true},
        {L::Scheme, "access_pattern/sz/min", 5, 18, "0", true},
        {L::Scheme, "access_pattern/sz/max", 5, 18, "18446744073709551615", true},
        {L::Scheme, "access_pattern/nr_accesses/min", 5, 18, "0", true},
        {L::Scheme, "access_pattern/nr_accesses/max", 5, 18, "4294967295", true},
        {L::Scheme, "access_pattern/age/min", 5, 18, "0", true},
        {L::Scheme, "access_pattern/age/max", 5, 18, "4294967295", true},
        {L::Scheme, "quotas/ms", 5, 18, "0", true},
        {L::Scheme, "quotas/bytes", 5, 18, "0", true},
        {L::Scheme, "quotas/reset_interval_ms", 5, 18, "0", true},
        {L::Scheme, "quotas/effective_bytes", 6, 9, "0", false},
        {L::Scheme, "quotas/goal_tuner", 7, 1, "consist", true},
        {L::Scheme, "quotas/fail_charge_num", 7, 2, "0", true},
        {L::Scheme, "quotas/fail_charge_denom", 7, 2, "0", true},
        {L::Scheme, "quotas/weights/sz_permil", 5, 18, "0", true},
        {L::Scheme, "quotas/weights/nr_accesses_permil", 5, 18, "0", true},
        {L::Scheme, "quotas/weights/age_permil", 5, 18, "0", true},
        {L::Scheme, "quotas/goals/nr_goals", 6, 8, "0", true},
        {L::Scheme, "watermarks/metric", 5, 18, "none", true},
        {L::Scheme, "watermarks/interval_us", 5, 18, "0", true},
        {L::Scheme, "watermarks/high", 5, 18, "0", true},
        {L::Scheme, "watermarks/mid", 5, 18, "0", true},
        {L::Scheme, "watermarks/low", 5, 18, "0", true},
        {L::Scheme, "filters/nr_filters", 6, 3, "0", true},
        {L::Scheme, "core_filters/nr_filters", 6, 15, "0", true},
        {L::Scheme, "ops_filters/nr_filters", 6, 15, "0", true},
        {L::Scheme, "dests/nr_dests", 6, 17, "0", true},
        {L::Scheme, "stats/nr_tried", 5, 18, "0", false},
        {L::Scheme, "stats/sz_tried", 5, 18, "0", false},
        {L::Scheme, "stats/nr_applied", 5, 18, "0", false},
        {L::Scheme, "stats/sz_applied", 5, 18, "0", false},
        {L::Scheme, "stats/qt_exceeds", 5, 18, "0", false},
        {L::Scheme, "stats/sz_ops_filter_passed", 6, 14, "0", false},
        {L::Scheme, "stats/nr_snapshots", 7, 0, "0", false},
        {L::Scheme, "stats/max_nr_snapshots", 7, 0, "0", true},
        {L::Scheme, "tried_regions/total_bytes", 6, 6, "0", false},

        {L::Goal, "target_value", 6, 8, "0", true},
        {L::Goal, "current_value", 6, 8, "0", true},
        {L::Goal, "target_metric", 6, 9, "user_input", true},
        {L::Goal, "nid", 6, 16, "0", true},
        {L::Goal, "path", 6, 19, "", true},

        {L::Filter, "type", 6, 3, "anon", true},
        {L::Filter, "matching", 6, 3, "N", true},
        {L::Filter, "memcg_path", 6, 3, "", true},
        {L::Filter, "addr_start", 6, 6, "0", true},
        {L::Filter, "addr_end", 6, 6, "0", true},
        {L::Filter, "damon_target_idx", 6, 6, "0", true},
        {L::Filter, "allow", 6, 14, "N", true},
        {L::Filter, "min", 6, 15, "0", true},
        {L::Filter, "max", 6, 15, "0", true},

        {L::Dest, "id", 6, 17, "0", true},
        {L::Dest, "weight", 6, 17, "0", true},

        {L::Probe, "filters/nr_filters", 7, 2, "0", true},
        {L::Probe, "weight", 7, 3, "0", true},

        {L::ProbeFilter, "type", 7, 2, "anon", true},
        {L::ProbeFilter, "matching", 7, 2, "N", true},
        {L::ProbeFilter, "allow", 7, 2, "N", true},
        {L::ProbeFilter, "path", 7, 2, "", true},
    };
    return files;
}

std::vector<SysfsFile> sysfs_files_of(SysfsLevel level, const KernelVersion& version) {
    std::vector<SysfsFile> out;
    for (const SysfsFile& f : sysfs_files())
        if (f.level == level && version.at_least(f.since_major, f.since_minor)) out.push_back(f);
    return out;
}

}  // namespace damond
