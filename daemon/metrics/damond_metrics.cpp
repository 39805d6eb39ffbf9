#include "metrics/damond_metrics.hpp"

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace damond {

namespace {

MetricFamily family(const char* name, const char* type, const char* unit, const char* help) {
    return MetricFamily{name, type, unit, help, {}};
}

// The app (and role) a context belongs to, for its labels.
struct ContextOwner {
    std::string_view app;
    const char* role = "";  // foreground | background | "" for contexts of no app
};

}  // namespace

MetricsOptions with_system_stat(MetricsOptions options, const SystemStat* stat) {
    if (!stat || stat->refreshed_us() == 0) return options;
    options.system_stat = &stat->figures();
    if (const std::string m = stat->cgroups_method(); m == "probes" || m == "kpagecgroup") {
        options.cgroups = &stat->cgroups();
        options.cgroups_left_out = stat->cgroups_left_out();
    }
    return options;
}

std::vector<MetricFamily> gather_metrics(const Manager& manager, const AppRegistry& registry,
                                         const MetricsOptions& options) {
    std::vector<MetricFamily> out;

    // Apps: the most recently switched max_apps have series of their own.
    // Pointers and views into the registry: a thousand apps are looked at
    // every interval, and copying them was most of the cost.
    std::vector<const AppInfo*> apps;
    apps.reserve(registry.apps().size());
    for (const auto& [id, info] : registry.apps()) apps.push_back(&info);
    const size_t shown = std::min<size_t>(apps.size(), options.max_apps);
    auto recent_first = [](const AppInfo* a, const AppInfo* b) {
        return a->last_switch_us != b->last_switch_us ? a->last_switch_us > b->last_switch_us : a->app_id < b->app_id;
    };
    std::partial_sort(apps.begin(), apps.begin() + std::ptrdiff_t(shown), apps.end(), recent_first);
    uint64_t in_foreground = 0;
    for (const AppInfo* a : apps) in_foreground += a->state == AppState::Foreground;
    std::unordered_set<std::string_view> app_contexts;  // every app's, shown or not
    app_contexts.reserve(apps.size() * 2);
    std::unordered_map<std::string_view, ContextOwner> owners;  // the shown apps' contexts
    for (size_t i = 0; i < apps.size(); ++i) {
        app_contexts.insert(apps[i]->foreground_context);
        app_contexts.insert(apps[i]->background_context);
        if (i >= shown) continue;
        owners[apps[i]->foreground_context] = {apps[i]->app_id, "foreground"};
        owners[apps[i]->background_context] = {apps[i]->app_id, "background"};
    }

    out.push_back(family("damond_info", "gauge", "", "damond's version, backend and pause mode; always 1."));
    const BackendFacts facts = manager.backend_facts();
    out.back().add(
        {{"version", options.version}, {"backend", to_string(manager.backend())}, {"pause_mode", facts.pause_mode}},
        "1");

    // Contexts.
    auto ctx_info = family("damond_context_info", "gauge", "",
                           "One series per context, always 1: its backend, access source, app and role.");
    auto state = family("damond_context_state", "gauge", "", "1 for the state the context is in, 0 for the others.");
    auto monitored =
        family("damond_context_monitored_bytes", "gauge", "bytes",
               "Bytes the context monitors, as of its last aggregation (in-process) or read-back (kernel).");
    auto working = family("damond_context_working_set_bytes", "gauge", "bytes",
                          "Bytes in regions accessed in the last aggregation.");
    auto idle = family("damond_context_idle_seconds", "gauge", "seconds",
                       "Size-weighted idle-time percentiles (50, 90, 99): the idle time (age x aggregation interval, 0 "
                       "if accessed in the last aggregation) below which that share of the monitored bytes lies.");
    auto regions = family("damond_context_regions", "gauge", "", "Regions in the last aggregation or read-back.");
    auto aggregations = family("damond_context_aggregations", "counter", "",
                               "Aggregations the monitor has done (a new kdamond starts from zero).");
    auto samples = family("damond_context_samples", "counter", "",
                          "Samples the monitor has taken (a new kdamond starts from zero).");
    auto sample_iv = family("damond_context_sample_interval_seconds", "gauge", "seconds",
                            "The sampling interval in force (auto-tuning moves it).");
    auto aggr_iv = family("damond_context_aggregation_interval_seconds", "gauge", "seconds",
                          "The aggregation interval in force (auto-tuning moves it).");
    auto pauses = family("damond_context_pauses", "counter", "",
                         "Times the context went from running to paused, however it came about.");
    auto resumes = family("damond_context_resumes", "counter", "", "Times the context went from paused to running.");
    auto paused = family("damond_context_paused_seconds", "counter", "seconds",
                         "Time the context has spent paused, the current pause included.");
    auto commits =
        family("damond_context_commits", "counter", "",
               "Commits by result: ok, invalid (refused by damond's rules), failed (refused by the backend).");
    auto tried_nr =
        family("damond_scheme_tried_regions", "counter", "", "Regions a DAMOS scheme's action was tried on.");
    auto tried_sz =
        family("damond_scheme_tried_bytes", "counter", "bytes", "Bytes a DAMOS scheme's action was tried on.");
    auto applied_nr =
        family("damond_scheme_applied_regions", "counter", "", "Regions a DAMOS scheme's action was applied to.");
    auto applied_sz =
        family("damond_scheme_applied_bytes", "counter", "bytes", "Bytes a DAMOS scheme's action was applied to.");
    auto exceeds = family("damond_scheme_quota_exceeds", "counter", "", "Times a DAMOS scheme's quota was exceeded.");
    auto esz = family("damond_scheme_effective_quota_bytes", "gauge", "bytes",
                      "The size quota of the current charge window (0: no size quota).");
    auto active = family("damond_scheme_active", "gauge", "", "1 unless the scheme's watermarks hold it off.");
    auto goal_cur = family("damond_scheme_goal_current", "gauge", "",
                           "A quota goal's metric as last measured (in the goal's own unit).");
    auto goal_tgt = family("damond_scheme_goal_target", "gauge", "", "A quota goal's target (in the goal's own unit).");
    static const char* const kStates[] = {"running", "paused", "stopped", "failed"};
    for (const ContextInfo& c : manager.list_contexts()) {
        auto owner_it = owners.find(c.name);
        if (owner_it == owners.end() && app_contexts.count(c.name)) continue;  // an app's past max_apps
        const ContextOwner owner = owner_it == owners.end() ? ContextOwner{} : owner_it->second;
        const std::string backend = manager.context_backend(c.name);
        const std::string app(owner.app);
        const Labels l{{"context", c.name}, {"app", app}, {"backend", backend}};
        ctx_info.add({{"context", c.name},
                      {"app", app},
                      {"role", owner.role},
                      {"backend", backend},
                      {"source", manager.access_source(c.name)}},
                     "1");
        for (const char* s : kStates) {
            Labels ls = l;
            ls.emplace_back("state", s);
            state.add(ls, c.state == MonitorState::Running   ? (std::string(s) == "running" ? "1" : "0")
                          : c.state == MonitorState::Paused  ? (std::string(s) == "paused" ? "1" : "0")
                          : c.state == MonitorState::Stopped ? (std::string(s) == "stopped" ? "1" : "0")
                                                             : (std::string(s) == "failed" ? "1" : "0"));
        }
        const ContextFigures f = manager.context_figures(c.name);
        monitored.add(l, metric_value(f.monitored_bytes));
        working.add(l, metric_value(f.working_set_bytes));
        // "percentile", not "quantile": that label is a summary's, and
        // these are no summary (no sum, no count).
        const std::pair<const char*, uint64_t> qs[] = {
            {"50", f.idle_p50_us}, {"90", f.idle_p90_us}, {"99", f.idle_p99_us}};
        for (const auto& [q, us] : qs) {
            Labels lq = l;
            lq.emplace_back("percentile", q);
            idle.add(lq, metric_seconds(us));
        }
        regions.add(l, metric_value(f.nr_regions));
        aggregations.add(l, metric_value(f.nr_aggregations));
        samples.add(l, metric_value(f.nr_samples));
        sample_iv.add(l, metric_seconds(f.sample_us));
        aggr_iv.add(l, metric_seconds(f.aggr_us));
        const ContextCounters k = manager.context_counters(c.name);
        pauses.add(l, metric_value(k.pauses));
        resumes.add(l, metric_value(k.resumes));
        paused.add(l, metric_seconds(manager.paused_us(c.name)));
        const std::pair<const char*, uint64_t> results[] = {
            {"ok", k.commits_ok}, {"invalid", k.commits_invalid}, {"failed", k.commits_failed}};
        for (const auto& [r, n] : results) {
            Labels lr = l;
            lr.emplace_back("result", r);
            commits.add(lr, metric_value(n));
        }
        for (size_t i = 0; i < f.schemes.size(); ++i) {
            const SchemeStats& s = f.schemes[i];
            Labels ls = l;
            ls.emplace_back("scheme", std::to_string(i));
            tried_nr.add(ls, metric_value(s.counters.nr_tried));
            tried_sz.add(ls, metric_value(s.counters.sz_tried));
            applied_nr.add(ls, metric_value(s.counters.nr_applied));
            applied_sz.add(ls, metric_value(s.counters.sz_applied));
            exceeds.add(ls, metric_value(s.counters.qt_exceeds));
            esz.add(ls, metric_value(s.effective_quota_bytes));
            active.add(ls, s.active ? "1" : "0");
            for (size_t g = 0; g < s.goals.size(); ++g) {
                Labels lg = ls;
                lg.emplace_back("goal", std::to_string(g));
                goal_cur.add(lg, metric_value(s.goals[g].current));
                goal_tgt.add(lg, metric_value(s.goals[g].target));
            }
        }
    }
    for (auto* f : {&ctx_info,   &state,      &monitored, &working, &idle,   &regions,  &aggregations, &samples,
                    &sample_iv,  &aggr_iv,    &pauses,    &resumes, &paused, &commits,  &tried_nr,     &tried_sz,
                    &applied_nr, &applied_sz, &exceeds,   &esz,     &active, &goal_cur, &goal_tgt})
        out.push_back(std::move(*f));

    if (const StatFigures* f = options.system_stat) {
        auto idle_pct =
            family("damond_system_idle_seconds", "gauge", "seconds",
                   "DAMON_STAT's size-weighted idle-time percentiles of the machine's memory, served by damond "
                   "from its context system-stat: negative for memory accessed in the last aggregation "
                   "(hot for that long).");
        for (int p : {0, 10, 25, 50, 75, 90, 99, 100})
            idle_pct.add({{"percentile", std::to_string(p)}},
                         metric_value(double(f->idle_ms_percentiles[size_t(p)]) / 1000));
        out.push_back(std::move(idle_pct));
        out.push_back(
            family("damond_system_memory_bandwidth_bytes", "gauge", "bytes",
                   "DAMON_STAT's estimated memory bandwidth: bytes accessed per second in the last aggregation."));
        out.back().add({}, metric_value(f->estimated_memory_bandwidth));
    }
    if (const std::vector<CgroupFigure>* cgroups = options.cgroups) {
        auto bytes = family("damond_cgroup_memory_bytes", "gauge", "bytes",
                            "Memory charged to the cgroup (or below it) that damond's context system-stat sees hot, "
                            "warm or cold (idle past system_cgroups.warm_ms, cold_ms), by the kernel's probes or "
                            "kpagecgroup samples of its regions.");
        for (const CgroupFigure& c : *cgroups) {
            bytes.add({{"cgroup", c.path}, {"state", "hot"}}, metric_value(c.bytes.hot));
            bytes.add({{"cgroup", c.path}, {"state", "warm"}}, metric_value(c.bytes.warm));
            bytes.add({{"cgroup", c.path}, {"state", "cold"}}, metric_value(c.bytes.cold));
        }
        out.push_back(std::move(bytes));
        out.push_back(family("damond_cgroup_memory_left_out", "gauge", "",
                             "Cgroups found past system_cgroups.max, without series of their own."));
        out.back().add({}, metric_value(options.cgroups_left_out));
    }

    // Apps.
    out.push_back(family("damond_apps", "gauge", "",
                         "Apps registered, by state (all of them, those without series of their own too)."));
    out.back().add({{"state", "foreground"}}, metric_value(in_foreground));
    out.back().add({{"state", "background"}}, metric_value(uint64_t(apps.size()) - in_foreground));
    out.push_back(family("damond_metrics_apps_left_out", "gauge", "",
                         "Apps without series of their own: past metrics.max_apps, the least recently switched."));
    out.back().add({}, metric_value(uint64_t(apps.size() - shown)));
    auto fg = family("damond_app_foreground", "gauge", "", "1 while the app is in the foreground.");
    auto switches = family("damond_app_switches", "counter", "",
                           "Switches of the app between foreground and background since it was registered.");
    auto fg_seconds = family("damond_app_foreground_seconds", "counter", "seconds",
                             "Time the app has spent in the foreground since it was registered.");
    auto reclaimed = family("damond_app_reclaimed_bytes", "counter", "bytes",
                            "Memory of the app paged out in the background because both of its contexts saw it idle "
                            "(apps.reclaim), since it was registered.");
    auto refaults = family("damond_app_refault_bytes", "gauge", "bytes",
                           "Major faults of the app times the page size over apps.reclaim.refault_window_ms after its "
                           "last return to the foreground: what its reclaim cost it.");
    for (size_t i = 0; i < shown; ++i) {
        const AppInfo& a = *apps[i];
        const Labels l{{"app", a.app_id}};
        fg.add(l, a.state == AppState::Foreground ? "1" : "0");
        switches.add(l, metric_value(a.switches));
        fg_seconds.add(l, metric_seconds(registry.foreground_us(a)));
        if (const AppReclaimer::Figures* r = registry.reclaim_figures(a.app_id)) {
            reclaimed.add(l, metric_value(r->total_bytes));
            refaults.add(l, metric_value(r->refault_bytes));
        }
    }
    out.push_back(std::move(fg));
    out.push_back(std::move(switches));
    out.push_back(std::move(fg_seconds));
    out.push_back(std::move(reclaimed));
    out.push_back(std::move(refaults));

    const Histogram& h = registry.switch_seconds();
    MetricFamily sw = family("damond_switch_duration_seconds", "histogram", "seconds",
                             "How long app switches took, from the pause of one context to the resume of the other.");
    for (size_t i = 0; i <= h.bounds().size(); ++i)
        sw.samples.push_back({"_bucket",
                              {{"le", i < h.bounds().size() ? metric_value(h.bounds()[i]) : "+Inf"}},
                              metric_value(h.cumulative(i))});
    sw.samples.push_back({"_sum", {}, metric_value(h.sum())});
    sw.samples.push_back({"_count", {}, metric_value(h.count())});
    out.push_back(std::move(sw));
    out.push_back(
        family("damond_switch_failures", "counter", "", "App switches that failed (the context that ran runs again)."));
    out.back().add({}, metric_value(registry.failed_switches()));

    // The bus.
    out.push_back(family("damond_bus_calls", "counter", "",
                         "Bus method calls answered, by method and result (ok or the error's name)."));
    for (const auto& [key, n] : manager.bus_calls().all())
        out.back().add({{"method", key.first}, {"result", key.second}}, metric_value(n));

    // kdamonds.
    uint64_t ours = 0, foreign = 0, ours_on = 0;
    for (const KdamondFact& k : facts.kdamonds) {
        if (k.ours) {
            ours++;
            ours_on += k.state == "on";
        } else {
            foreign++;
        }
    }
    out.push_back(
        family("damond_kdamonds", "gauge", "", "The kernel's kdamonds: damond's own (all, and those on) and others'."));
    out.back().add({{"owner", "damond"}, {"state", "any"}}, metric_value(ours));
    out.back().add({{"owner", "damond"}, {"state", "on"}}, metric_value(ours_on));
    out.back().add({{"owner", "foreign"}, {"state", "any"}}, metric_value(foreign));
    return out;
}

}  // namespace damond
