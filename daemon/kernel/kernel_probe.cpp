#include "kernel/kernel_probe.hpp"

#include "kernel/kdamond_state.hpp"

#include <algorithm>
#include <sstream>

namespace damond {

const char* to_string(PauseMode mode) {
    switch (mode) {
    case PauseMode::Native: return "native";
    case PauseMode::Watermarks: return "watermarks";
    case PauseMode::Checkpoint: return "checkpoint";
    case PauseMode::Unsupported: return "unsupported";
    }
    return "?";
}

namespace {

// Feature name -> file, relative to a kdamond, its first context, or its first scheme.
struct FeatureFile {
    const char* name;
    const char* where;  // "kdamond", "context", "scheme", "goal", "target"
    const char* path;
};

constexpr FeatureFile kFeatureFiles[] = {
    {"refresh_ms", "kdamond", "refresh_ms"},
    {"pause", "context", "pause"},
    {"addr_unit", "context", "addr_unit"},
    {"intervals_goal", "context", "monitoring_attrs/intervals/intervals_goal"},
    {"probes", "context", "monitoring_attrs/probes"},
    {"obsolete_target", "target", "obsolete_target"},
    {"apply_interval_us", "scheme", "apply_interval_us"},
    {"target_nid", "scheme", "target_nid"},
    {"filters", "scheme", "filters"},
    {"core_filters", "scheme", "core_filters"},
    {"ops_filters", "scheme", "ops_filters"},
    {"quota_goals", "scheme", "quotas/goals"},
    {"effective_bytes", "scheme", "quotas/effective_bytes"},
    {"goal_tuner", "scheme", "quotas/goal_tuner"},
    {"fail_charge", "scheme", "quotas/fail_charge_num"},
    {"dests", "scheme", "dests"},
    {"nr_snapshots", "scheme", "stats/nr_snapshots"},
    {"sz_ops_filter_passed", "scheme", "stats/sz_ops_filter_passed"},
    {"tried_regions", "scheme", "tried_regions"},
};

bool is_index(const std::string& s) { return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit); }

// The first directory of each level that exists anywhere in the tree.
struct Samples {
    std::string kdamond, context, target, scheme;
};

Samples find_samples(const SysfsTree& t) {
    Samples s;
    for (const std::string& k : t.list("kdamonds")) {
        if (!is_index(k)) continue;
        const std::string kd = "kdamonds/" + k;
        if (s.kdamond.empty()) s.kdamond = kd;
        for (const std::string& c : t.list(kd + "/contexts")) {
            if (!is_index(c)) continue;
            const std::string ctx = kd + "/contexts/" + c;
            if (s.context.empty()) s.context = ctx;
            for (const std::string& tg : t.list(ctx + "/targets"))
                if (is_index(tg) && s.target.empty()) s.target = ctx + "/targets/" + tg;
            for (const std::string& sc : t.list(ctx + "/schemes"))
                if (is_index(sc) && s.scheme.empty()) s.scheme = ctx + "/schemes/" + sc;
        }
    }
    return s;
}

void choose_pause_mode(KernelProbe& p) {
    const std::string version = p.version ? p.version->to_string() : std::string("of unknown version");
    if (!p.present) {
        p.pause_mode = PauseMode::Unsupported;
        p.pause_mode_reason = "no DAMON sysfs tree";
        return;
    }
    const bool has_pause_file = p.features.count("pause") != 0;
    const bool new_enough_for_pause = p.version && p.version->at_least(7, 2);
    if (has_pause_file || (!p.features_known && new_enough_for_pause)) {
        p.pause_mode = PauseMode::Native;
        p.pause_mode_reason =
            "kernel " + version + " has the per-context pause file (Linux 7.2+): pause is written, then committed";
        return;
    }
    // The fix that lets commit be served while watermarks hold a kdamond off
    // landed in 6.16-rc6; before it (and on 6.9..6.15) the resuming commit of
    // a parked kdamond never completes.
    const bool parking_safe =
        p.version && (p.version->at_least(6, 17) ||
                      (p.version->major == 6 && p.version->minor == 16 && (p.version->rc == 0 || p.version->rc >= 6)));
    if (parking_safe) {
        p.pause_mode = PauseMode::Watermarks;
        p.pause_mode_reason = "kernel " + version +
                              " has no pause file; its commit is served while watermarks hold a "
                              "kdamond off (6.16-rc6+), so pause parks every scheme with watermarks and keeps "
                              "regions and ages";
        return;
    }
    p.pause_mode = PauseMode::Checkpoint;
    p.pause_mode_reason = "kernel " + version +
                          " has no pause file, and a kdamond parked by watermarks there never "
                          "completes the resuming commit; pause snapshots the regions, turns the kdamond off and "
                          "restarts it from them: boundaries survive, ages and access counts do not";
    if (p.features_known && !p.features.count("tried_regions"))
        p.pause_mode_reason +=
            "; this kernel cannot report regions (tried_regions is 6.2+), so here nothing of the "
            "trained state survives a pause";
}

}  // namespace

std::string force_pause_mode(KernelProbe& p, const std::string& wanted) {
    if (wanted == "auto" || wanted.empty()) return "";
    const PauseMode natural = p.pause_mode;
    if (wanted == "checkpoint") {
        if (natural == PauseMode::Unsupported) return "there is no DAMON sysfs tree";
        p.pause_mode = PauseMode::Checkpoint;
    } else if (wanted == "watermarks") {
        if (natural != PauseMode::Native && natural != PauseMode::Watermarks)
            return "a kdamond parked by watermarks never resumes on this kernel (" + p.pause_mode_reason + ")";
        p.pause_mode = PauseMode::Watermarks;
    } else if (wanted == "native") {
        if (natural != PauseMode::Native) return "this kernel has no pause file";
    } else {
        return "unknown pause mode '" + wanted + "' (expected auto, native, watermarks or checkpoint)";
    }
    if (p.pause_mode != natural)
        p.pause_mode_reason = std::string("forced by the config (kernel.pause_mode ") + wanted +
                              "); the kernel would use " + to_string(natural);
    return "";
}

std::string obstacle_to_own_kdamonds(const KernelProbe& p, const std::string& root) {
    if (!p.present) return "no DAMON sysfs tree at " + root;
    if (!p.writable) return root + " is not writable";
    if (!p.exclusive_modules_running.empty()) {
        const auto& running = p.exclusive_modules_running;
        std::string names;
        for (const std::string& m : running) names += (names.empty() ? "" : " and ") + m;
        return (running.size() == 1 ? "DAMON module " + names + " runs" : "DAMON modules " + names + " run") +
               " exclusively, so every kdamond 'on' would fail with EBUSY (\"damon_modules\": \"disable\" "
               "lets damond turn it off while it runs, \"damon_stat\" DAMON_STAT alone)";
    }
    for (const KdamondInfo& k : p.kdamonds)
        if (k.state == to_string(KdamondCommand::On) && !k.ours)
            return "kdamond " + std::to_string(k.index) + " (pid " + std::to_string(k.pid) +
                   ") is running and is not damond's: nr_kdamonds cannot change while it runs";
    return "";
}

bool KernelProbe::any_running() const {
    return std::any_of(kdamonds.begin(), kdamonds.end(),
                       [](const KdamondInfo& k) { return k.state == to_string(KdamondCommand::On); });
}

KernelProbe probe_kernel(const SysfsTree& admin, const SysfsTree& modules, const std::string& kernel_release,
                         const std::set<uint32_t>& owned) {
    KernelProbe p;
    p.version = parse_kernel_release(kernel_release);
    p.present = admin.exists("kdamonds/nr_kdamonds");
    if (p.present) {
        p.writable = admin.writable("kdamonds/nr_kdamonds");
        for (const std::string& k : admin.list("kdamonds")) {
            if (!is_index(k)) continue;
            KdamondInfo info;
            info.index = static_cast<uint32_t>(std::stoul(k));
            info.ours = owned.count(info.index) != 0;
            const std::string kd = "kdamonds/" + k;
            info.state = read_or(admin, kd + "/state", "");
            try {
                info.pid = std::stoi(read_or(admin, kd + "/pid", "-1"));
            } catch (const std::exception&) {
                info.pid = -1;
            }
            info.ops = read_or(admin, kd + "/contexts/0/operations", "");
            p.kdamonds.push_back(info);
        }
        std::sort(p.kdamonds.begin(), p.kdamonds.end(), [](auto& a, auto& b) { return a.index < b.index; });

        const Samples s = find_samples(admin);
        p.features_known = !s.context.empty();
        if (!s.context.empty()) {
            std::istringstream ops(read_or(admin, s.context + "/avail_operations", ""));
            for (std::string op; ops >> op;) p.avail_operations.push_back(op);
        }
        for (const FeatureFile& f : kFeatureFiles) {
            const std::string w = f.where;
            const std::string& base = w == "kdamond"   ? s.kdamond
                                      : w == "context" ? s.context
                                      : w == "target"  ? s.target
                                                       : s.scheme;
            if (!base.empty() && admin.exists(base + "/" + f.path)) p.features.insert(f.name);
        }
    }
    for (const char* module : {"damon_stat", "damon_reclaim", "damon_lru_sort"}) {
        const std::string enabled = read_or(modules, std::string(module) + "/parameters/enabled", "N");
        if (enabled == "Y" || enabled == "1") p.exclusive_modules_running.push_back(module);
    }
    choose_pause_mode(p);
    return p;
}

}  // namespace damond
