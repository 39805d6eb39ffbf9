// `status` and `show`: what damond runs (the manager's properties and
// every context's and app's summary), and one context in full.
#include <time.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "bus_label.hpp"
#include "commands.hpp"
#include "format.hpp"

namespace damonctl {

using nlohmann::json;

namespace {

json holds_json(const HoldsList& holds) {
    json out = json::array();
    for (const auto& h : holds)
        out.push_back({{"cookie", h.get<0>()}, {"context", h.get<1>()}, {"who", h.get<2>()}, {"why", h.get<3>()}});
    return out;
}

json context_json(const PropMap& p, uint64_t now) {
    const uint64_t since = prop<uint64_t>(p, "StateSinceUsec");
    return {{"name", prop<std::string>(p, "Name")},
            {"state", prop<std::string>(p, "State")},
            {"state_for_us", since && now > since ? now - since : 0},
            {"backend", prop<std::string>(p, "Backend")},
            {"backend_reason", prop<std::string>(p, "BackendReason")},
            {"access_source", prop<std::string>(p, "AccessSource")},
            {"access_source_reason", prop<std::string>(p, "AccessSourceReason")},
            {"nr_regions", prop<uint64_t>(p, "NrRegions")},
            {"nr_aggregations", prop<uint64_t>(p, "NrAggregations")},
            {"nr_samples", prop<uint64_t>(p, "NrSamples")},
            {"holds", holds_json(prop<HoldsList>(p, "PauseHolds"))},
            {"last_error", prop<std::string>(p, "LastError")}};
}

// A context as DescribeContexts gives it, with the holds covering it (its
// own and those on all contexts, as its PauseHolds property says).
template <typename Summary>
json summary_json(const Summary& c, const HoldsList& holds, uint64_t now) {
    const std::string name = c.template get<0>();
    const uint64_t since = c.template get<3>();
    HoldsList covering;
    for (const auto& h : holds)
        if (h.template get<1>().empty() || h.template get<1>() == name) covering.push_back(h);
    return {{"name", name},
            {"state", c.template get<2>()},
            {"state_for_us", since && now > since ? now - since : 0},
            {"backend", c.template get<4>()},
            {"backend_reason", c.template get<5>()},
            {"access_source", c.template get<6>()},
            {"access_source_reason", c.template get<7>()},
            {"nr_regions", c.template get<8>()},
            {"nr_aggregations", c.template get<9>()},
            {"nr_samples", c.template get<10>()},
            {"holds", holds_json(covering)},
            {"last_error", c.template get<11>()}};
}

// Everything `status` shows, as its --json prints it: three calls, each
// reply small (not GetManagedObjects, whose every context's Spec and Stats
// made status twice as slow as a busctl call with 100 contexts).
json gather_status(Damond& d) {
    const PropMap m = get_all(d.connection(), damond::kManagerPath, "org.damond1.Manager");
    const auto summaries = call([&] { return d.manager().DescribeContexts(); });
    const auto app_list = call([&] { return d.manager().DescribeApps(); });
    const uint64_t now = monotonic_us();
    const HoldsList holds = prop<HoldsList>(m, "PauseHolds");
    json kdamonds = json::array();
    for (const auto& k : prop<KdamondsList>(m, "Kdamonds"))
        kdamonds.push_back({{"index", k.get<0>()},
                            {"ours", k.get<1>()},
                            {"state", k.get<2>()},
                            {"pid", k.get<3>()},
                            {"operations", k.get<4>()}});
    json contexts = json::array(), apps = json::array();
    for (const auto& c : summaries) contexts.push_back(summary_json(c, holds, now));
    for (const auto& a : app_list)
        apps.push_back({{"app_id", a.get<0>()}, {"state", a.get<2>()}, {"pids", a.get<3>()}});
    auto by_name = [](const char* key) {
        return [key](const json& x, const json& y) { return x[key].get<std::string>() < y[key].get<std::string>(); };
    };
    // DAMON_STAT's figures, when damond serves them: the percentiles an
    // overview shows, and the bandwidth.
    json system_stat = json::object();
    if (const auto p = prop<std::vector<int64_t>>(m, "SystemStat.idle_ms_percentiles"); p.size() == 101) {
        system_stat["idle_ms_percentiles"] = p;
        system_stat["estimated_memory_bandwidth"] = prop<uint64_t>(m, "SystemStat.estimated_memory_bandwidth");
        system_stat["aggr_interval_us"] = prop<uint64_t>(m, "SystemStat.aggr_interval_us");
        system_stat["context"] = prop<std::string>(m, "SystemStat.context");
    }
    // Memory by cgroup, from the same context.
    json cgroups = json::object();
    if (const std::string method = prop<std::string>(m, "SystemStat.cgroups_method"); !method.empty()) {
        json list = json::array();
        for (const auto& c : prop<CgroupsList>(m, "SystemCgroups"))
            list.push_back({{"cgroup", c.get<0>()},
                            {"hot_bytes", c.get<1>()},
                            {"warm_bytes", c.get<2>()},
                            {"cold_bytes", c.get<3>()}});
        cgroups = {{"method", method},
                   {"unavailable", prop<std::string>(m, "SystemStat.cgroups_unavailable")},
                   {"warm_ms", prop<uint64_t>(m, "SystemStat.cgroups_warm_ms")},
                   {"cold_ms", prop<uint64_t>(m, "SystemStat.cgroups_cold_ms")},
                   {"left_out", prop<uint64_t>(m, "SystemStat.cgroups_left_out")},
                   {"cgroups", list}};
    }
    std::sort(contexts.begin(), contexts.end(), by_name("name"));
    std::sort(apps.begin(), apps.end(), by_name("app_id"));
    return {{"version", prop<std::string>(m, "Version")},
            {"backend", prop<std::string>(m, "Backend")},
            {"backend_reason", prop<std::string>(m, "BackendReason")},
            {"pause_mode", prop<std::string>(m, "PauseMode")},
            {"pause_mode_reason", prop<std::string>(m, "PauseModeReason")},
            {"kernel_features", prop<std::vector<std::string>>(m, "KernelFeatures")},
            {"kdamonds", kdamonds},
            {"system_stat", system_stat},
            {"system_cgroups", cgroups},
            {"foreground_app", prop<std::string>(m, "ForegroundApp")},
            {"contexts", contexts},
            {"apps", apps},
            {"holds", holds_json(holds)}};
}

void print_holds(const json& holds, const std::string& indent) {
    Table t({"COOKIE", "ON", "WHO", "WHY"});
    for (const auto& h : holds)
        t.add({std::to_string(h["cookie"].get<uint32_t>()),
               h["context"].get<std::string>().empty() ? "(all)" : h["context"].get<std::string>(),
               h["who"].get<std::string>(), h["why"].get<std::string>()});
    t.print(std::cout, indent);
}

// --cgroups: memory by cgroup, the biggest first.
void print_cgroups(const json& cg) {
    if (!cg.contains("method")) {
        std::cout << "\nmemory by cgroup: none (damond serves it with DAMON_STAT's figures: docs/system.md)\n";
        return;
    }
    if (cg["method"] != "kpagecgroup" && cg["method"] != "probes") {
        std::cout << "\nmemory by cgroup: " << cg["method"].get<std::string>();
        if (!cg["unavailable"].get<std::string>().empty())
            std::cout << " (" << cg["unavailable"].get<std::string>() << ")";
        std::cout << '\n';
        return;
    }
    std::cout << "\nmemory by cgroup (" << cg["method"].get<std::string>() << "; warm: idle "
              << human_duration_us(cg["warm_ms"].get<uint64_t>() * 1000) << ", cold: idle "
              << human_duration_us(cg["cold_ms"].get<uint64_t>() * 1000) << "):\n";
    std::vector<json> rows(cg["cgroups"].begin(), cg["cgroups"].end());
    auto total = [](const json& c) {
        return c["hot_bytes"].get<uint64_t>() + c["warm_bytes"].get<uint64_t>() + c["cold_bytes"].get<uint64_t>();
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const json& x, const json& y) { return total(x) > total(y); });
    Table t({"CGROUP", "HOT", "WARM", "COLD"});
    for (const json& c : rows)
        t.add({c["cgroup"].get<std::string>(), human_size(c["hot_bytes"].get<uint64_t>()),
               human_size(c["warm_bytes"].get<uint64_t>()), human_size(c["cold_bytes"].get<uint64_t>())});
    t.print(std::cout, "  ");
    if (const uint64_t left = cg["left_out"].get<uint64_t>())
        std::cout << "  (" << left << " more past system_cgroups.max)\n";
}

}  // namespace

int cmd_status(Args& a) {
    const bool by_cgroup = a.flag("cgroups");
    a.expect(0, "damonctl status [--cgroups] [--json]");
    Damond d;
    const json s = gather_status(d);
    if (a.json) {
        std::cout << s.dump(2) << '\n';
        return kOk;
    }
    std::cout << "damond " << s["version"].get<std::string>() << ", backend " << s["backend"].get<std::string>();
    if (!s["backend_reason"].get<std::string>().empty())
        std::cout << " (" << s["backend_reason"].get<std::string>() << ")";
    std::cout << "\npause mode " << s["pause_mode"].get<std::string>();
    if (!s["pause_mode_reason"].get<std::string>().empty())
        std::cout << " (" << s["pause_mode_reason"].get<std::string>() << ")";
    std::cout << '\n';
    if (s["system_stat"].contains("idle_ms_percentiles")) {
        const json& st = s["system_stat"];
        const json& p = st["idle_ms_percentiles"];
        auto idle = [&](size_t i) {
            const int64_t ms = p[i].get<int64_t>();
            return (ms < 0 ? "hot " : "") + human_duration_us(uint64_t(ms < 0 ? -ms : ms) * 1000);
        };
        std::cout << "\nDAMON_STAT's figures (from context " << st.value("context", "?") << "): idle p50 " << idle(50)
                  << ", p90 " << idle(90) << ", p99 " << idle(99) << "; estimated bandwidth "
                  << human_size(st.value("estimated_memory_bandwidth", uint64_t(0))) << "/s\n";
    }
    if (by_cgroup) print_cgroups(s["system_cgroups"]);
    if (!s["kdamonds"].empty()) {
        std::cout << "\nkdamonds:\n";
        Table t({"INDEX", "OWNER", "STATE", "PID", "OPS"});
        for (const auto& k : s["kdamonds"])
            t.add({std::to_string(k["index"].get<uint32_t>()), k["ours"].get<bool>() ? "damond" : "foreign",
                   k["state"].get<std::string>(), std::to_string(k["pid"].get<uint32_t>()),
                   k["operations"].get<std::string>()});
        t.print(std::cout, "  ");
    }
    std::cout << "\ncontexts: " << s["contexts"].size() << '\n';
    if (!s["contexts"].empty()) {
        Table t({"NAME", "STATE", "FOR", "BACKEND", "SOURCE", "REGIONS", "AGGREGATIONS"});
        for (const auto& c : s["contexts"]) {
            std::string state = c["state"].get<std::string>();
            if (!c["holds"].empty()) state += " (held)";
            t.add({c["name"].get<std::string>(), state, human_duration_us(c["state_for_us"].get<uint64_t>()),
                   c["backend"].get<std::string>(), c["access_source"].get<std::string>(),
                   std::to_string(c["nr_regions"].get<uint64_t>()),
                   std::to_string(c["nr_aggregations"].get<uint64_t>())});
        }
        t.print(std::cout, "  ");
        for (const auto& c : s["contexts"])
            if (!c["last_error"].get<std::string>().empty())
                std::cout << "  " << c["name"].get<std::string>() << ": " << c["last_error"].get<std::string>() << '\n';
    }
    if (!s["apps"].empty()) {
        std::cout << "\napps: " << s["apps"].size() << ", in the foreground: "
                  << (s["foreground_app"].get<std::string>().empty() ? "none" : s["foreground_app"].get<std::string>())
                  << '\n';
        Table t({"APP", "STATE", "PIDS"});
        for (const auto& app : s["apps"]) {
            std::string pids;
            for (const auto& p : app["pids"]) pids += (pids.empty() ? "" : ",") + std::to_string(p.get<uint32_t>());
            t.add({app["app_id"].get<std::string>(), app["state"].get<std::string>(), pids.empty() ? "-" : pids});
        }
        t.print(std::cout, "  ");
    }
    if (!s["holds"].empty()) {
        std::cout << "\npause holds: " << s["holds"].size() << '\n';
        print_holds(s["holds"], "  ");
    }
    return kOk;
}

int cmd_show(Args& a) {
    a.expect(1, "damonctl show CONTEXT [--json]");
    Damond d;
    auto ctx = d.context(a.words[0]);
    const PropMap p = get_all(d.connection(), damond::context_object_path(a.words[0]), "org.damond1.Context");
    json c = context_json(p, monotonic_us());
    c["spec"] = json::parse(prop<std::string>(p, "Spec", "{}"));
    // The figures damond publishes (Stats) are everyone's; show prints no
    // region. Live intervals and scheme stats come from a fresh snapshot for
    // those who may read one (a kernel context's Stats are as of its last
    // read-back), from Stats for everyone else.
    const auto stats = call([&] { return ctx->Stats(); });
    json figures = json::object();
    for (const auto& [key, value] : stats)
        if (value.containsValueOfType<uint64_t>()) figures[key] = value.get<uint64_t>();
    c["stats"] = figures;
    json schemes = json::array();
    try {
        const json snap = json::parse(ctx->Snapshot());
        c["intervals"] = snap.value("intervals", json::object());
        for (const auto& s : snap.value("schemes", json::array())) {
            json x = s;
            x.erase("tried_regions");
            schemes.push_back(x);
        }
    } catch (const sdbus::Error& e) {
        if (e.getName() != "org.freedesktop.DBus.Error.AccessDenied") fail_from(e);
        c["intervals"] = {{"sample_us", figures.value("sample_us", uint64_t(0))},
                          {"aggr_us", figures.value("aggr_us", uint64_t(0))}};
        using Goal = sdbus::Struct<uint64_t, uint64_t>;
        using Scheme =
            sdbus::Struct<uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, bool, std::vector<Goal>>;
        if (auto it = stats.find("schemes"); it != stats.end() && it->second.containsValueOfType<std::vector<Scheme>>())
            for (const Scheme& sc : it->second.get<std::vector<Scheme>>())
                schemes.push_back({{"stats",
                                    {{"nr_tried", std::get<0>(sc)},
                                     {"sz_tried", std::get<1>(sc)},
                                     {"nr_applied", std::get<2>(sc)},
                                     {"sz_applied", std::get<3>(sc)},
                                     {"qt_exceeds", std::get<4>(sc)}}},
                                   {"effective_bytes", std::get<5>(sc)},
                                   {"active", std::get<6>(sc)}});
    }
    c["schemes"] = schemes;
    if (a.json) {
        std::cout << c.dump(2) << '\n';
        return kOk;
    }
    auto line = [](const std::string& k, const std::string& v) { std::cout << k << ": " << v << '\n'; };
    line("context", c["name"].get<std::string>());
    line("state", c["state"].get<std::string>() + " for " + human_duration_us(c["state_for_us"].get<uint64_t>()));
    std::string backend = c["backend"].get<std::string>();
    if (!c["backend_reason"].get<std::string>().empty()) backend += " (" + c["backend_reason"].get<std::string>() + ")";
    line("backend", backend);
    line("access source",
         c["access_source"].get<std::string>() + " (" + c["access_source_reason"].get<std::string>() + ")");
    line("regions", std::to_string(c["nr_regions"].get<uint64_t>()));
    line("aggregations", std::to_string(c["nr_aggregations"].get<uint64_t>()));
    if (c["intervals"].contains("sample_us"))
        line("live intervals", "sample " + human_duration_us(c["intervals"]["sample_us"].get<uint64_t>()) +
                                   ", aggregation " + human_duration_us(c["intervals"]["aggr_us"].get<uint64_t>()));
    auto figure = [&](const char* key) { return figures.value(key, uint64_t(0)); };
    line("working set", human_size(figure("working_set_bytes")) + " of " + human_size(figure("monitored_bytes")) +
                            " accessed in the last aggregation");
    line("idle time by size", "p50 " + human_duration_us(figure("idle_p50_us")) + ", p90 " +
                                  human_duration_us(figure("idle_p90_us")) + ", p99 " +
                                  human_duration_us(figure("idle_p99_us")));
    if (!c["last_error"].get<std::string>().empty()) line("last error", c["last_error"].get<std::string>());
    if (!c["holds"].empty()) {
        std::cout << "pause holds:\n";
        print_holds(c["holds"], "  ");
    }
    if (!schemes.empty()) {
        std::cout << "schemes:\n";
        Table t({"#", "ACTION", "TRIED", "TRIED SIZE", "APPLIED", "APPLIED SIZE", "QUOTA EXCEEDED", "ACTIVE"});
        for (size_t i = 0; i < schemes.size(); ++i) {
            const json& st = schemes[i]["stats"];
            t.add({std::to_string(i), c["spec"]["schemes"][i].value("action", "?"),
                   std::to_string(st.value("nr_tried", uint64_t(0))), human_size(st.value("sz_tried", uint64_t(0))),
                   std::to_string(st.value("nr_applied", uint64_t(0))), human_size(st.value("sz_applied", uint64_t(0))),
                   std::to_string(st.value("qt_exceeds", uint64_t(0))),
                   schemes[i].value("active", true) ? "yes" : "no"});
        }
        t.print(std::cout, "  ");
    }
    std::cout << "spec:\n" << c["spec"].dump(2) << '\n';
    return kOk;
}

}  // namespace damonctl
