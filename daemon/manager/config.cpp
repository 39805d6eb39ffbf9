#include "manager/config.hpp"

#include <fstream>
#include <sstream>

#include "spec/json_object_reader.hpp"
#include "spec/spec_json.hpp"

namespace damond {

namespace {

std::string profile_ref(JsonObjectReader& r, const std::string& key, const AppsConfig& apps, bool required) {
    if (required && !r.has(key)) throw SpecError(r.path_of(key), "is required (a profile name)");
    const std::string name = r.string(key, "");
    if (!name.empty() && !apps.profiles.count(name)) throw SpecError(r.path_of(key), "no profile named '" + name + "'");
    return name;
}

void read_apps(const nlohmann::json& j, AppsConfig& apps) {
    JsonObjectReader r(j, "apps");
    if (const nlohmann::json* d = r.member("default")) {
        JsonObjectReader dr(*d, r.path_of("default"));
        apps.default_foreground = profile_ref(dr, "foreground", apps, true);
        apps.default_background = profile_ref(dr, "background", apps, true);
        dr.reject_unknown_keys();
    }
    if (const nlohmann::json* rules = r.array("rules")) {
        for (size_t i = 0; i < rules->size(); ++i) {
            JsonObjectReader rr((*rules)[i], json_index_path(r.path_of("rules"), i));
            AppRule rule;
            rule.app_id = rr.string("app_id", "");
            if (rule.app_id.empty()) throw SpecError(rr.path_of("app_id"), "is required and must not be empty");
            rule.foreground = profile_ref(rr, "foreground", apps, true);
            rule.background = profile_ref(rr, "background", apps, true);
            rule.exe = rr.string("exe", "");
            rule.cgroup = rr.string("cgroup", "");
            if (rr.member("reclaim")) rule.reclaim = rr.boolean("reclaim", false);
            rr.reject_unknown_keys();
            apps.rules.push_back(rule);
        }
    }
    apps.auto_register = r.boolean("auto_register", apps.auto_register);
    apps.one_foreground = r.boolean("one_foreground", apps.one_foreground);
    apps.debounce_ms = static_cast<uint32_t>(r.u64("debounce_ms", apps.debounce_ms, 60000));
    apps.max_apps = static_cast<uint32_t>(r.u64("max_apps", apps.max_apps, kMaxKdamonds / 2));
    apps.recent_apps = static_cast<uint32_t>(r.u64("recent_apps", apps.recent_apps, kMaxKdamonds / 2));
    if (const nlohmann::json* reclaim = r.member("reclaim")) {
        JsonObjectReader rr(*reclaim, r.path_of("reclaim"));
        AppReclaimConfig& c = apps.reclaim;
        c.enabled = rr.boolean("enabled", c.enabled);
        c.after_ms = rr.u64("after_ms", c.after_ms, 86400000);
        c.min_idle_ms = rr.u64("min_idle_ms", c.min_idle_ms, 86400000);
        c.min_aggregations = rr.u64("min_aggregations", c.min_aggregations, 1000000);
        c.bytes_per_s = rr.u64("bytes_per_s", c.bytes_per_s);
        if (c.bytes_per_s < (1ULL << 20))
            throw SpecError(rr.path_of("bytes_per_s"), "must be at least 1048576 (1 MiB/s)");
        c.max_bytes = rr.u64("max_bytes", c.max_bytes);
        c.min_free_swap_percent = static_cast<uint32_t>(rr.u64("min_free_swap_percent", c.min_free_swap_percent, 100));
        c.refault_window_ms = rr.u64("refault_window_ms", c.refault_window_ms, 600000);
        c.freeze = rr.boolean("freeze", c.freeze);
        rr.reject_unknown_keys();
    }
    if (const nlohmann::json* freezer = r.array("freezer")) {
        for (size_t i = 0; i < freezer->size(); ++i) {
            JsonObjectReader fr((*freezer)[i], json_index_path(r.path_of("freezer"), i));
            FreezerWatch w;
            w.cgroup = fr.string("cgroup", "");
            if (w.cgroup.empty() || w.cgroup[0] != '/')
                throw SpecError(fr.path_of("cgroup"), "is required: the cgroup's directory, an absolute path");
            w.app_id = fr.string("app_id", "");
            if (w.app_id.empty()) throw SpecError(fr.path_of("app_id"), "is required and must not be empty");
            fr.reject_unknown_keys();
            apps.freezer.push_back(w);
        }
    }
    if (const nlohmann::json* desktop = r.member("desktop")) {
        JsonObjectReader dr(*desktop, r.path_of("desktop"));
        if (const nlohmann::json* slices = dr.array("app_slices")) {
            for (size_t i = 0; i < slices->size(); ++i) {
                const std::string path = json_index_path(dr.path_of("app_slices"), i);
                if (!(*slices)[i].is_string() || (*slices)[i].get<std::string>().empty() ||
                    (*slices)[i].get<std::string>()[0] != '/')
                    throw SpecError(path, "must be an absolute path (glob patterns allowed)");
                apps.desktop_app_slices.push_back((*slices)[i].get<std::string>());
            }
        }
        dr.reject_unknown_keys();
    }
    r.reject_unknown_keys();
}

}  // namespace

Config config_from_json_text(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // out_of_range too: numbers past 64 bits
        throw SpecError("", std::string("not valid JSON: ") + e.what());
    }
    JsonObjectReader r(j, "");
    Config config;
    const std::string backend = r.string("backend", to_string(config.backend));
    if (const auto choice = backend_choice_from(backend))
        config.backend = *choice;
    else
        throw SpecError("backend", "unknown backend '" + backend + "' (expected auto, inprocess or kernel)");
    config.damon_modules = r.string("damon_modules", config.damon_modules);
    if (config.damon_modules != "keep" && config.damon_modules != "damon_stat" && config.damon_modules != "disable")
        throw SpecError("damon_modules",
                        "unknown value '" + config.damon_modules + "' (expected keep, damon_stat or disable)");
    if (const nlohmann::json* stat = r.member("system_stat"); stat && stat->is_string()) {
        if (*stat != "always")
            throw SpecError("system_stat",
                            "unknown value '" + stat->get<std::string>() + "' (expected true, false or \"always\")");
        config.system_stat = config.system_stat_always = true;
    } else {
        config.system_stat = r.boolean("system_stat", config.system_stat);
    }
    if (const nlohmann::json* contexts = r.member("contexts")) {
        JsonObjectReader cr(*contexts, "contexts");
        for (const auto& item : contexts->items()) {
            cr.member(item.key());
            try {
                config.contexts.emplace(item.key(), spec_from_json(item.value()));
            } catch (const SpecError& e) {
                const std::string prefix = cr.path_of(item.key());
                throw SpecError(e.path().empty() ? prefix : prefix + "." + e.path(), e.rule());
            }
        }
    }
    if (const nlohmann::json* profiles = r.member("profiles")) {
        JsonObjectReader pr(*profiles, "profiles");
        for (const auto& item : profiles->items()) {
            pr.member(item.key());
            try {
                config.apps.profiles.emplace(item.key(), spec_from_json(item.value()));
            } catch (const SpecError& e) {
                const std::string prefix = pr.path_of(item.key());
                throw SpecError(e.path().empty() ? prefix : prefix + "." + e.path(), e.rule());
            }
        }
    }
    if (const nlohmann::json* apps = r.member("apps")) read_apps(*apps, config.apps);
    if (const nlohmann::json* kernel = r.member("kernel")) {
        JsonObjectReader kr(*kernel, "kernel");
        config.kernel_pause_mode = kr.string("pause_mode", config.kernel_pause_mode);
        const std::string& m = config.kernel_pause_mode;
        if (m != "auto" && m != "native" && m != "watermarks" && m != "checkpoint")
            throw SpecError("kernel.pause_mode",
                            "unknown pause mode '" + m + "' (expected auto, native, watermarks or checkpoint)");
        config.deep_pause_after_ms = kr.u64("deep_pause_after_ms", config.deep_pause_after_ms, 86400000);
        config.deep_pause_interval_ms = kr.u64("deep_pause_interval_ms", config.deep_pause_interval_ms, 60000);
        // A deep pause sleeps longer than a plain one (100 ms parked): less would cost more.
        if (config.deep_pause_interval_ms < 100)
            throw SpecError("kernel.deep_pause_interval_ms", "must be at least 100 (ms)");
        config.recent_pause_interval_ms =
            kr.u64("recent_pause_interval_ms", config.recent_pause_interval_ms, config.deep_pause_interval_ms);
        if (config.recent_pause_interval_ms < 100)
            throw SpecError("kernel.recent_pause_interval_ms", "must be at least 100 (ms)");
        kr.reject_unknown_keys();
    }
    if (const nlohmann::json* limits = r.member("limits")) {
        JsonObjectReader lr(*limits, "limits");
        Limits& l = config.limits;
        // Each at least 1 (0 would refuse everything) and at most what a
        // 32-bit count and the core's memory allow.
        auto count = [&](const char* key, uint32_t& v, uint64_t max) {
            v = static_cast<uint32_t>(lr.u64(key, v, max));
            if (v == 0) throw SpecError(lr.path_of(key), "must be at least 1");
        };
        count("contexts", l.contexts, 65536);
        count("contexts_per_caller", l.contexts_per_caller, 65536);
        count("apps", l.apps, 65536);
        count("apps_per_caller", l.apps_per_caller, 65536);
        count("holds", l.holds, 65536);
        count("holds_per_caller", l.holds_per_caller, 65536);
        l.spec.regions_per_context = lr.u64("regions_per_context", l.spec.regions_per_context, 1000000);
        if (l.spec.regions_per_context < 3) throw SpecError(lr.path_of("regions_per_context"), "must be at least 3");
        l.spec.spec_bytes = lr.u64("spec_bytes", l.spec.spec_bytes, 16 * 1024 * 1024);
        if (l.spec.spec_bytes < 1024) throw SpecError(lr.path_of("spec_bytes"), "must be at least 1024");
        count("text_bytes", l.text_bytes, 65536);
        lr.reject_unknown_keys();
    }
    if (const nlohmann::json* metrics = r.member("metrics")) {
        JsonObjectReader mr(*metrics, "metrics");
        MetricsConfig& m = config.metrics;
        m.textfile = mr.string("textfile", m.textfile);
        if (!m.textfile.empty()) {
            if (m.textfile[0] != '/') throw SpecError("metrics.textfile", "must be an absolute path");
            const std::string suffix = ".prom";
            if (m.textfile.size() <= suffix.size() ||
                m.textfile.compare(m.textfile.size() - suffix.size(), suffix.size(), suffix) != 0 ||
                m.textfile.back() == '/' || m.textfile[m.textfile.size() - suffix.size() - 1] == '/')
                throw SpecError(
                    "metrics.textfile",
                    "must name a file ending in .prom (the node exporter's textfile collector reads no other)");
        }
        m.interval_ms = mr.u64("interval_ms", m.interval_ms, 3600000);
        if (m.interval_ms < 1000) throw SpecError("metrics.interval_ms", "must be at least 1000 (ms)");
        m.max_apps = static_cast<uint32_t>(mr.u64("max_apps", m.max_apps, 65536));
        m.history_interval_ms = mr.u64("history_interval_ms", m.history_interval_ms, 86400000);
        if (m.history_interval_ms < 1000) throw SpecError("metrics.history_interval_ms", "must be at least 1000 (ms)");
        m.history_points = static_cast<uint32_t>(mr.u64("history_points", m.history_points, 100000));
        m.kernel_readback_ms = mr.u64("kernel_readback_ms", m.kernel_readback_ms, 86400000);
        if (m.kernel_readback_ms != 0 && m.kernel_readback_ms < 1000)
            throw SpecError("metrics.kernel_readback_ms", "must be 0 (never) or at least 1000 (ms)");
        mr.reject_unknown_keys();
    }
    if (const nlohmann::json* cg = r.member("system_cgroups")) {
        JsonObjectReader cr(*cg, "system_cgroups");
        SystemCgroupsConfig& c = config.system_cgroups;
        c.enabled = cr.boolean("enabled", c.enabled);
        c.method = cr.string("method", c.method);
        if (c.method != "auto" && c.method != "probes" && c.method != "kpagecgroup")
            throw SpecError("system_cgroups.method",
                            "unknown method '" + c.method + "' (expected auto, probes or kpagecgroup)");
        if (const nlohmann::json* paths = cr.array("paths"))
            for (size_t i = 0; i < paths->size(); ++i) {
                const std::string where = json_index_path("system_cgroups.paths", i);
                if (!(*paths)[i].is_string()) throw SpecError(where, "must be a string");
                const std::string p = (*paths)[i].get<std::string>();
                if (p.size() < 2 || p[0] != '/' || p.back() == '/' || p.find("/../") != std::string::npos ||
                    p.find("//") != std::string::npos || (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0) ||
                    p.find("/./") != std::string::npos)
                    throw SpecError(where, "'" + p +
                                               "' must be a cgroup path relative to cgroupfs, as "
                                               "/system.slice/cron.service");
                c.paths.push_back(p);
            }
        c.max = static_cast<uint32_t>(cr.u64("max", c.max, 1024));
        if (c.max == 0) throw SpecError("system_cgroups.max", "must be at least 1 (\"enabled\": false turns it off)");
        c.warm_ms = cr.u64("warm_ms", c.warm_ms, 86400000);
        c.cold_ms = cr.u64("cold_ms", c.cold_ms, 86400000);
        if (c.cold_ms <= c.warm_ms)
            throw SpecError("system_cgroups.cold_ms", "must be more than warm_ms (" + std::to_string(c.warm_ms) + ")");
        c.samples_per_region = static_cast<uint32_t>(cr.u64("samples_per_region", c.samples_per_region, 4096));
        if (c.samples_per_region == 0) throw SpecError("system_cgroups.samples_per_region", "must be at least 1");
        cr.reject_unknown_keys();
    }
    if (const nlohmann::json* auth = r.member("authorization")) {
        JsonObjectReader ar(*auth, "authorization");
        config.authorization.group = ar.string("group", config.authorization.group);
        config.authorization.polkit = ar.boolean("polkit", config.authorization.polkit);
        config.authorization.polkit_timeout_ms =
            static_cast<uint32_t>(ar.u64("polkit_timeout_ms", config.authorization.polkit_timeout_ms, 120000));
        if (config.authorization.polkit_timeout_ms < 100)
            throw SpecError("authorization.polkit_timeout_ms", "must be at least 100 (ms)");
        ar.reject_unknown_keys();
    }
    r.reject_unknown_keys();
    // The config's own specs keep to its limits too (regions_per_context).
    auto within_limits = [&](const char* section, const std::map<std::string, ContextSpec>& specs) {
        for (const auto& [name, spec] : specs) {
            try {
                check_spec_limits(spec, config.limits.spec);
            } catch (const LimitError& e) {
                const std::string prefix = std::string(section) + "." + name;
                throw SpecError(e.path().empty() ? prefix : prefix + "." + e.path(), e.rule());
            }
        }
    };
    within_limits("contexts", config.contexts);
    within_limits("profiles", config.apps.profiles);
    if (kernel_pool_size(config) > kMaxKdamonds)
        throw SpecError("apps.max_apps", std::to_string(config.apps.max_apps) + " apps need " +
                                             std::to_string(kernel_pool_size(config)) + " kdamonds with the config's " +
                                             std::to_string(config.contexts.size()) +
                                             " context(s); damond asks the "
                                             "kernel for at most " +
                                             std::to_string(kMaxKdamonds));
    return config;
}

uint32_t kernel_pool_size(const Config& config) {
    // One more for DAMON_STAT's stand-in, should damond turn the module off.
    const uint32_t stand_in = runs_system_stat_kdamond(config) ? 1 : 0;
    return static_cast<uint32_t>(config.contexts.size()) + 2 * config.apps.max_apps + stand_in;
}

bool runs_system_stat_kdamond(const Config& config) {
    return config.system_stat && (config.system_stat_always || config.damon_modules != "keep");
}

std::vector<std::string> modules_to_disable(const Config& config) {
    if (config.damon_modules == "damon_stat") return {"damon_stat"};
    if (config.damon_modules == "disable") return {"damon_stat", "damon_reclaim", "damon_lru_sort"};
    return {};
}

Config load_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read config file " + path);
    std::stringstream buf;
    buf << in.rdbuf();
    return config_from_json_text(buf.str());
}

}  // namespace damond
