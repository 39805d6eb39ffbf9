// The daemon's configuration file (JSON):
//   {"backend": "inprocess" | "auto" | "kernel" (monitor/backend.hpp),
//    "damon_modules": "keep" | "damon_stat" | "disable",
//    "system_stat": true | false | "always",
//    "system_cgroups": {"enabled": true, "method": "auto" | "probes" | "kpagecgroup",
//                       "paths": [PATH, ...], "max": 32,
//                       "warm_ms": 5000, "cold_ms": 60000, "samples_per_region": 64},
//    "profiles": {"<name>": <context spec>, ...},
//    "apps": {"default": {"foreground": P, "background": P},
//             "rules": [{"app_id", "foreground", "background", "exe", "cgroup"}],
//             "auto_register": false, "one_foreground": true, "debounce_ms": 0,
//             "max_apps": 32, "recent_apps": 3,
//             "freezer": [{"cgroup": DIR, "app_id": ID}],
//             "desktop": {"app_slices": [GLOB, ...]}},
//    "authorization": {"group": "damond", "polkit": true},
//    "kernel": {"pause_mode": "auto" | "native" | "watermarks" | "checkpoint",
//               "deep_pause_after_ms": 10000, "deep_pause_interval_ms": 1500,
//               "recent_pause_interval_ms": 150},
//    "limits": {"contexts": 256, "contexts_per_caller": 32, "apps": 1024,
//               "apps_per_caller": 256, "holds": 1024, "holds_per_caller": 64,
//               "regions_per_context": 10000, "spec_bytes": 65536, "text_bytes": 1024},
//    "metrics": {"textfile": "/var/lib/prometheus/node-exporter/damond.prom",
//                "interval_ms": 15000, "max_apps": <apps.max_apps>,
//                "history_interval_ms": 60000, "history_points": 1440,
//                "kernel_readback_ms": 60000},
//    "contexts": {"<name>": <context spec>, ...}}
// damon_modules "disable" lets damond turn off a DAMON module (damon_stat,
// damon_reclaim, damon_lru_sort) that runs exclusively, for as long as it
// runs, so that it can have kdamonds of its own; "damon_stat" lets it turn
// off only DAMON_STAT, whose figures it serves in the module's place (the
// shipped config: Debian's 7.x kernels boot with it on, while reclaim and
// lru_sort run only where an administrator turned them on).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "monitor/backend.hpp"
#include "spec/context_spec.hpp"
#include "spec/spec_error.hpp"
#include "spec/spec_limits.hpp"

namespace damond {

// An app id mapped to a pair of profiles, and how to find its processes.
struct AppRule {
    std::string app_id;
    std::string foreground;  // profile names
    std::string background;
    std::string exe;              // executable path, "" if not used
    std::string cgroup;           // cgroup path, "" if not used
    std::optional<bool> reclaim;  // apps.reclaim.enabled for this app, when set
};

// Giving back what an app in the background uses in neither phase
// (docs/apps.md): paged out `after_ms` after it left the foreground, where
// both of its contexts saw it idle for `min_idle_ms`.
struct AppReclaimConfig {
    bool enabled = false;
    uint64_t after_ms = 10000;            // Android freezes cached apps 10 s after they leave
    uint64_t min_idle_ms = 60000;         // idle this long in each context
    uint64_t min_aggregations = 10;       // a context that aggregated fewer times is not acted on
    uint64_t bytes_per_s = 64ULL << 20;   // paged out at most this fast
    uint64_t max_bytes = 0;               // per reclaim, the longest idle first; 0: no limit
    uint32_t min_free_swap_percent = 20;  // stop below this share of swap free
    uint64_t refault_window_ms = 10000;   // major faults counted this long after a return
    // Then freeze the app's own cgroup (its rule's "cgroup"), thawed before
    // its foreground context resumes.
    bool freeze = false;
};

// A cgroup v2 cgroup whose freezer state is an app's: frozen = background.
struct FreezerWatch {
    std::string cgroup;  // its directory
    std::string app_id;
};

// Per-app foreground/background contexts: named context templates
// (profiles), the pair for apps no rule names, and the rules.
struct AppsConfig {
    std::map<std::string, ContextSpec> profiles;
    std::string default_foreground;  // "" when there is no default pair
    std::string default_background;
    std::vector<AppRule> rules;
    bool auto_register = false;  // SetAppState on an unknown app that a rule names registers it
    bool one_foreground = true;  // a new foreground app sends the previous one to background
    uint32_t debounce_ms = 0;    // an app switches at most once per this many ms; 0: no debounce
    // How many apps the kernel backend keeps kdamonds for (two each).
    uint32_t max_apps = 32;
    // The last this many apps to leave the foreground are likely to come
    // back soon (a phone's recents, a desktop's Alt-Tab): their foreground
    // contexts settle into the lighter kernel.recent_pause_interval_ms.
    uint32_t recent_apps = 3;
    AppReclaimConfig reclaim;
    std::vector<FreezerWatch> freezer;
    // Directories (glob patterns, expanded when the config is applied) of
    // systemd user app.slices whose app-*.scope / app-*.service units are
    // apps, focused unless they carry user.xdg.inactive-since.
    std::vector<std::string> desktop_app_slices;
};

// Who may call the methods that change anything, besides root.
struct AuthorizationConfig {
    std::string group = "damond";  // members may; "" for nobody but root
    bool polkit = true;            // others are checked with polkit when it runs
    // How long a call waits for polkit's (or the bus driver's) answer before
    // it fails with AuthorizationTimedOut; the loop never waits on it.
    uint32_t polkit_timeout_ms = 5000;
};

// How much one caller, and all of them, may make damond hold: beyond a
// limit a call fails with LimitExceeded naming it and its key
// ("limits.<name>"), and nothing changes. A caller is a uid for contexts
// and apps (they outlive the connection) and a bus connection for holds
// (they end with it). Contexts from the config and apps found by event
// sources have no caller: they count toward the totals only (config
// contexts not even those).
struct Limits {
    uint32_t contexts = 256;  // created over the bus
    uint32_t contexts_per_caller = 32;
    uint32_t apps = 1024;  // registered, by anyone
    uint32_t apps_per_caller = 256;
    uint32_t holds = 1024;
    uint32_t holds_per_caller = 64;
    SpecLimits spec;             // regions_per_context, spec_bytes
    uint32_t text_bytes = 1024;  // a name, app id, who or why
};

// OpenMetrics for Prometheus (docs/metrics.md): written to `textfile` every
// interval_ms when set (off by default), and always there for Metrics().
// Memory by cgroup, from the system-stat context (docs/system.md).
struct SystemCgroupsConfig {
    bool enabled = true;
    // auto: the kernel's probes where they can count every cgroup named
    // (7.2+, paths given, at most 4, none with cgroups below it), else
    // kpagecgroup; or either one.
    std::string method = "auto";
    std::vector<std::string> paths;  // relative to cgroupfs; empty: system.slice's services, user.slice's users
    uint32_t max = 32;               // cgroups attributed to (and label values in the metrics)
    uint64_t warm_ms = 5000;         // idle at least this long: warm
    uint64_t cold_ms = 60000;        // idle at least this long: cold
    uint32_t samples_per_region = 64;
};

struct MetricsConfig {
    std::string textfile;          // "" = no file; else absolute, ending in .prom
    uint64_t interval_ms = 15000;  // the node exporter's own scrapes: 15 s by default
    // Apps with series of their own (cardinality); 0 = apps.max_apps.
    uint32_t max_apps = 0;
    // Each context's working set and idle p90 every history_interval_ms,
    // the last history_points of them (0: none); 5.6 KiB a context a day.
    uint64_t history_interval_ms = 60000;
    uint32_t history_points = 1440;
    // How often running kernel contexts are read back for their figures (0:
    // never; they then come from Snapshots and pauses). A read-back holds
    // the kernel's DAMON sysfs lock while its regions walk runs, and other
    // readers of the tree get EBUSY meanwhile: not more often than this.
    uint64_t kernel_readback_ms = 60000;
};

struct Config {
    BackendChoice backend = BackendChoice::Auto;
    AuthorizationConfig authorization;
    std::string kernel_pause_mode = "auto";  // "kernel": {"pause_mode": ...}, see force_pause_mode
    // A kernel context paused this long sleeps deeper (0: never), waking
    // every deep_pause_interval_ms (kernel/pause_strategy.hpp).
    uint64_t deep_pause_after_ms = 10000;
    // 1.5 s: under one wake-up a second with room for the kernel's jitter
    // (at 1 s, 32 deeply paused kdamonds measured 31.2-31.8 wake-ups/s).
    uint64_t deep_pause_interval_ms = 1500;
    // The deep pause of a recent app's foreground context (apps.recent_apps).
    uint64_t recent_pause_interval_ms = 150;
    AppsConfig apps;
    std::string damon_modules = "keep";
    // With damon_modules "damon_stat" or "disable": when damond turns DAMON_STAT off, it runs
    // a context like the module's ("system-stat") and serves its figures.
    bool system_stat = true;
    // "always": run it on every kernel-backed start, DAMON_STAT or not (a
    // kernel without the module: 6.16 and older, or built without it).
    bool system_stat_always = false;
    SystemCgroupsConfig system_cgroups;
    Limits limits;
    MetricsConfig metrics;
    std::map<std::string, ContextSpec> contexts;
};

// The most kdamonds damond asks the kernel for: each is a kernel thread
// and a sysfs directory tree, and a phone keeps 20-50 apps.
inline constexpr uint32_t kMaxKdamonds = 1024;
// The kernel backend's pool, sized once at start-up (nr_kdamonds cannot
// change while a kdamond runs): the config's contexts and two per app.
uint32_t kernel_pool_size(const Config& config);
// Whether the kdamond pool has one for the system-stat context.
bool runs_system_stat_kdamond(const Config& config);
// The exclusive DAMON modules damon_modules lets damond turn off.
std::vector<std::string> modules_to_disable(const Config& config);

// Throws SpecError naming the field (e.g. "contexts.demo.intervals.sample_us")
// or std::runtime_error when the file cannot be read.
Config load_config(const std::string& path);
Config config_from_json_text(const std::string& text);

}  // namespace damond
