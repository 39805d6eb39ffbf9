#include "damo_json.hpp"

#include <limits>
#include <set>

namespace damonctl::damo {

using nlohmann::json;

namespace {

constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

// An object read key by key: what is left unread at the end is refused, so
// nothing is dropped silently.
class Reader {
public:
    Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
        if (!j.is_object()) throw ValueError(where() + ": must be an object");
    }
    std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
    const std::string& path() const { return path_; }
    // The member, or nullptr when absent or null.
    const json* get(const std::string& key) {
        seen_.insert(key);
        auto it = j_.find(key);
        return it == j_.end() || it->is_null() ? nullptr : &*it;
    }
    const json& need(const std::string& key) {
        const json* v = get(key);
        if (!v) throw ValueError(at(key) + ": is required");
        return *v;
    }
    // Keys damo writes that say what happened rather than what to do.
    void ignore(std::initializer_list<const char*> keys) {
        for (const char* k : keys) seen_.insert(k);
    }
    void finish() const {
        for (const auto& [k, v] : j_.items())
            if (!seen_.count(k)) throw ValueError(at(k) + ": damond does not know this field, so it cannot honour it");
    }

private:
    std::string where() const { return path_.empty() ? "the document" : path_; }
    const json& j_;
    std::string path_;
    std::set<std::string> seen_;
};

std::string text(const json& v, const std::string& path) {
    if (!v.is_string()) throw ValueError(path + ": must be a string, not " + std::string(v.type_name()));
    return v.get<std::string>();
}

std::string idx(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

const json& array_at(Reader& r, const std::string& key, const json& empty) {
    const json* v = r.get(key);
    if (!v) return empty;
    if (!v->is_array()) throw ValueError(r.at(key) + ": must be a list");
    return *v;
}

void must_be_empty(Reader& r, const std::string& key, const std::string& why) {
    const json* v = r.get(key);
    if (v && !(v->is_array() && v->empty())) throw ValueError(r.at(key) + ": must be empty: " + why);
}

void must_be_zero(Reader& r, const std::string& key, const std::string& why) {
    if (const json* v = r.get(key); v && parse_count(*v, r.at(key)) != 0)
        throw ValueError(r.at(key) + ": must be 0: " + why);
}

json range_of(Reader r) {
    const uint64_t start = parse_bytes(r.need("start"), r.at("start"));
    const uint64_t end = parse_bytes(r.need("end"), r.at("end"));
    r.ignore({"nr_accesses", "age", "sz_filter_passed", "probe_hits"});  // monitoring results in report output
    r.finish();
    return {{"start", start}, {"end", end}};
}

uint64_t clamp_u32(uint64_t v) { return std::min(v, kU32Max); }

// A converted bound, clamped before the cast: a number of samples can be
// far past 2^64 in a file, and casting that to an integer is undefined.
uint64_t clamp_u32(long double v) {
    if (!(v >= 0)) return 0;
    if (v >= (long double)kU32Max) return kU32Max;
    return uint64_t(v);
}

// nr_accesses and age bounds in the kernel's units (samples per
// aggregation, aggregation intervals), as damo converts them for sysfs.
json pattern_bound(const json& v, const std::string& path, bool age, uint64_t sample_us, uint64_t aggr_us,
                   uint64_t age_bare_ns) {
    double n = 0;
    std::string unit;
    if (parse_with_unit(v, n, unit)) {
        if (!age && unit == "samples") return clamp_u32((long double)n);
        if (age && unit == "aggr_intervals") return clamp_u32((long double)n);
        if (!age && unit == "%") {
            const long double max_samples = (long double)aggr_us / (long double)sample_us;
            return clamp_u32((long double)n * max_samples / 100.0L);
        }
    }
    if (!age) {
        // A bare number or "max" is a percentage to damo.
        const uint64_t pct = parse_ratio(v, path, 100);
        if (pct == kU64Max) return kU32Max;
        const long double max_samples = (long double)aggr_us / (long double)sample_us;
        return clamp_u32((long double)pct * max_samples / 100.0L);
    }
    const uint64_t us = parse_time(v, path, 1000, age_bare_ns);
    return clamp_u32(us / aggr_us);
}

json min_max(Reader r, const std::function<json(const json&, const std::string&)>& parse) {
    json out = {{"min", parse(r.need("min"), r.at("min"))}, {"max", parse(r.need("max"), r.at("max"))}};
    r.finish();
    return out;
}

json import_filter(Reader r) {
    json f = {{"type", text(r.need("filter_type"), r.at("filter_type"))},
              {"matching", parse_bool(r.need("matching"), r.at("matching"))}};
    if (const json* v = r.get("allow"))
        f["allow"] = parse_bool(*v, r.at("allow"));
    else if (const json* legacy = r.get("filter_pass"))
        f["allow"] = parse_bool(*legacy, r.at("filter_pass"));
    else
        f["allow"] = false;
    if (const json* v = r.get("memcg_path")) f["memcg_path"] = text(*v, r.at("memcg_path"));
    if (const json* v = r.get("address_range")) {
        const json range = range_of(Reader(*v, r.at("address_range")));
        f["addr_start"] = range["start"];
        f["addr_end"] = range["end"];
    }
    if (const json* v = r.get("damon_target_idx")) f["damon_target_idx"] = parse_count(*v, r.at("damon_target_idx"));
    if (const json* v = r.get("hugepage_size")) {
        if (!v->is_array() || v->size() != 2) throw ValueError(r.at("hugepage_size") + ": must be [min, max]");
        f["min"] = parse_bytes((*v)[0], idx(r.at("hugepage_size"), 0));
        f["max"] = parse_bytes((*v)[1], idx(r.at("hugepage_size"), 1));
    }
    r.finish();
    // Each type reads its own fields only (the kernel ignores the others, and
    // damo writes them as null): a memcg_path on an anon filter is dropped,
    // so what is imported is what an export writes back.
    const std::string type = f["type"].get<std::string>();
    if (type != "memcg") f.erase("memcg_path");
    if (type != "addr") f.erase("addr_start"), f.erase("addr_end");
    if (type != "target") f.erase("damon_target_idx");
    if (type != "hugepage_size") f.erase("min"), f.erase("max");
    return f;
}

// damo's data-attribute probe: {"filters": [{"filter_type", "matching",
// "allow", "path"}]}, a memcg filter's cgroup in "path".
json import_probe(Reader r) {
    static const json none = json::array();
    json filters = json::array();
    const json& fs = array_at(r, "filters", none);
    for (size_t i = 0; i < fs.size(); ++i) {
        Reader fr(fs[i], idx(r.at("filters"), i));
        json f = {{"type", text(fr.need("filter_type"), fr.at("filter_type"))},
                  {"matching", parse_bool(fr.need("matching"), fr.at("matching"))}};
        const json* allow = fr.get("allow");
        f["allow"] = allow ? parse_bool(*allow, fr.at("allow")) : false;
        const json* path = fr.get("path");
        if (f["type"] == "memcg" && path) f["memcg_path"] = text(*path, fr.at("path"));
        fr.finish();
        filters.push_back(f);
    }
    if (const json* w = r.get("weight"); w && parse_count(*w, r.at("weight")) != 0)
        throw ValueError(r.at("weight") + ": must be 0: damond does not run attributes-only monitoring");
    r.finish();
    return {{"filters", filters}};
}

json import_goal(Reader r) {
    json g = json::object();
    if (const json* v = r.get("metric"))
        g["target_metric"] = text(*v, r.at("metric"));
    else
        g["target_metric"] = "user_input";
    if (const json* v = r.get("target_value"))
        g["target_value"] = parse_count(*v, r.at("target_value"));
    else if (const json* bp = r.get("target_value_bp"))
        g["target_value"] = parse_count(*bp, r.at("target_value_bp"));
    if (const json* v = r.get("current_value"))
        g["current_value"] = parse_count(*v, r.at("current_value"));
    else if (const json* bp = r.get("current_value_bp"))
        g["current_value"] = parse_count(*bp, r.at("current_value_bp"));
    if (const json* v = r.get("nid")) g["nid"] = parse_count(*v, r.at("nid"));
    if (const json* v = r.get("memcg_path")) g["path"] = text(*v, r.at("memcg_path"));
    r.finish();
    return g;
}

json import_scheme(Reader r, uint64_t sample_us, uint64_t aggr_us, bool raw) {
    const uint64_t exact_bare_ns_us = raw ? 1 : 1000;     // µs fields damo --raw writes in ns
    const uint64_t exact_bare_ns_ms = raw ? 1 : 1000000;  // ms fields likewise
    json s = {{"action", text(r.need("action"), r.at("action"))}};
    must_be_empty(r, "dests", "damond does not set migration destinations");
    if (const json* v = r.get("target_nid")) s["target_nid"] = parse_count(*v, r.at("target_nid"));
    if (const json* ap = r.get("access_pattern")) {
        Reader a(*ap, r.at("access_pattern"));
        s["access_pattern"] = {
            {"sz", min_max(Reader(a.need("sz_bytes"), a.at("sz_bytes")),
                           [](const json& v, const std::string& p) { return json(parse_bytes(v, p)); })},
            {"nr_accesses", min_max(Reader(a.need("nr_accesses"), a.at("nr_accesses")),
                                    [&](const json& v, const std::string& p) {
                                        return pattern_bound(v, p, false, sample_us, aggr_us, 0);
                                    })},
            {"age", min_max(Reader(a.need("age"), a.at("age")), [&](const json& v, const std::string& p) {
                 return pattern_bound(v, p, true, sample_us, aggr_us, exact_bare_ns_us);
             })}};
        a.finish();
    }
    if (const json* v = r.get("apply_interval_us"))
        s["apply_interval_us"] = parse_time(*v, r.at("apply_interval_us"), 1000, 1000);
    if (const json* qv = r.get("quotas")) {
        Reader q(*qv, r.at("quotas"));
        json quotas = json::object();
        if (const json* v = q.get("time_ms")) quotas["ms"] = parse_time(*v, q.at("time_ms"), 1000000, exact_bare_ns_ms);
        if (const json* v = q.get("sz_bytes")) quotas["bytes"] = parse_bytes(*v, q.at("sz_bytes"));
        if (const json* v = q.get("reset_interval_ms"))
            quotas["reset_interval_ms"] = parse_time(*v, q.at("reset_interval_ms"), 1000000, exact_bare_ns_ms);
        must_be_zero(q, "fail_charge_num", "damond does not set a failed-action charge ratio");
        must_be_zero(q, "fail_charge_denom", "damond does not set a failed-action charge ratio");
        if (const json* v = q.get("goal_tuner"); v && text(*v, q.at("goal_tuner")) != "consist")
            throw ValueError(q.at("goal_tuner") + ": must be consist: damond does not set another goal tuner");
        q.ignore({"effective_sz_bytes"});  // what the kernel computed, not a setting
        json goals = json::array();
        static const json none = json::array();
        const json& gs = array_at(q, "goals", none);
        for (size_t i = 0; i < gs.size(); ++i) goals.push_back(import_goal(Reader(gs[i], idx(q.at("goals"), i))));
        quotas["goals"] = goals;
        if (const json* wv = q.get("weights")) {
            Reader w(*wv, q.at("weights"));
            json weights = json::object();
            for (const char* k : {"sz_permil", "nr_accesses_permil", "age_permil"})
                if (const json* v = w.get(k)) weights[k] = parse_ratio(*v, w.at(k), 1000);
            w.finish();
            quotas["weights"] = weights;
        }
        q.finish();
        s["quotas"] = quotas;
    }
    if (const json* wv = r.get("watermarks")) {
        Reader w(*wv, r.at("watermarks"));
        json wm = json::object();
        if (const json* v = w.get("metric")) wm["metric"] = text(*v, w.at("metric"));
        if (const json* v = w.get("interval_us"))
            wm["interval_us"] = parse_time(*v, w.at("interval_us"), 1000, exact_bare_ns_us);
        for (const char* k : {"high", "mid", "low"})
            if (const json* v = w.get(std::string(k) + "_permil"))
                wm[k] = parse_ratio(*v, w.at(std::string(k) + "_permil"), 1000);
        w.finish();
        s["watermarks"] = wm;
    }
    json filters = json::array();
    static const json none = json::array();
    const json& fs = array_at(r, "filters", none);
    for (size_t i = 0; i < fs.size(); ++i) filters.push_back(import_filter(Reader(fs[i], idx(r.at("filters"), i))));
    s["filters"] = filters;
    r.ignore({"stats", "tried_regions"});  // results in report output
    r.finish();
    return s;
}

bool bare_number(const json* v) {
    if (!v) return false;
    if (v->is_number()) return true;
    if (!v->is_string()) return false;
    const std::string t = v->get<std::string>();
    return !t.empty() && t.find_first_not_of("0123456789,.") == std::string::npos;
}

json import_context(Reader c, Units units) {
    json spec = json::object();
    spec["ops"] = text(c.need("ops"), c.at("ops"));
    if (spec["ops"] != "vaddr" && spec["ops"] != "fvaddr" && spec["ops"] != "paddr")
        throw ValueError(c.at("ops") + ": must be vaddr, fvaddr or paddr (damo's operations sets), not " +
                         spec["ops"].get<std::string>());
    if (const json* v = c.get("addr_unit"); v && parse_bytes(*v, c.at("addr_unit")) != 1)
        throw ValueError(c.at("addr_unit") + ": must be 1: damond monitors byte addresses only");
    const json* iv = c.get("intervals");
    bool raw = units == Units::Raw;
    if (units == Units::Detect && iv && iv->is_object())
        raw = bare_number(iv->contains("sample_us") ? &(*iv)["sample_us"] : nullptr);
    uint64_t sample_us = 5000, aggr_us = 100000;
    if (iv) {
        Reader i(*iv, c.at("intervals"));
        json out = json::object();
        if (const json* v = i.get("sample_us"))
            out["sample_us"] = sample_us = parse_time(*v, i.at("sample_us"), 1000, 1000);
        if (const json* v = i.get("aggr_us")) out["aggr_us"] = aggr_us = parse_time(*v, i.at("aggr_us"), 1000, 1000);
        if (const json* v = i.get("ops_update_us"))
            out["update_us"] = parse_time(*v, i.at("ops_update_us"), 1000, 1000);
        if (const json* gv = i.get("intervals_goal")) {
            Reader g(*gv, i.at("intervals_goal"));
            json goal = json::object();
            if (const json* v = g.get("access_bp")) goal["access_bp"] = parse_ratio(*v, g.at("access_bp"), 10000);
            if (const json* v = g.get("aggrs")) goal["aggrs"] = parse_count(*v, g.at("aggrs"));
            if (const json* v = g.get("min_sample_us"))
                goal["min_sample_us"] = parse_time(*v, g.at("min_sample_us"), 1000, 1000);
            if (const json* v = g.get("max_sample_us"))
                goal["max_sample_us"] = parse_time(*v, g.at("max_sample_us"), 1000, 1000);
            g.finish();
            out["intervals_goal"] = goal;
        }
        i.finish();
        spec["intervals"] = out;
        if (sample_us == 0) throw ValueError(i.at("sample_us") + ": must be greater than 0");
        // Ages in time become aggregation intervals: a division by it.
        if (aggr_us == 0) throw ValueError(i.at("aggr_us") + ": must be greater than 0");
    }
    if (const json* nv = c.get("nr_regions")) {
        Reader n(*nv, c.at("nr_regions"));
        spec["nr_regions"] = json::object();
        if (const json* v = n.get("min")) spec["nr_regions"]["min"] = parse_count(*v, n.at("min"));
        if (const json* v = n.get("max")) spec["nr_regions"]["max"] = parse_count(*v, n.at("max"));
        n.finish();
    }
    json targets = json::array();
    static const json none = json::array();
    const json& ts = array_at(c, "targets", none);
    for (size_t i = 0; i < ts.size(); ++i) {
        Reader t(ts[i], idx(c.at("targets"), i));
        json target = json::object();
        if (const json* v = t.get("pid")) target["pid_target"] = parse_count(*v, t.at("pid"));
        if (const json* v = t.get("obsolete"); v && parse_bool(*v, t.at("obsolete")))
            throw ValueError(t.at("obsolete") + ": must be false: damond does not mark targets obsolete");
        json regions = json::array();
        const json& rs = array_at(t, "regions", none);
        for (size_t k = 0; k < rs.size(); ++k) regions.push_back(range_of(Reader(rs[k], idx(t.at("regions"), k))));
        target["regions"] = regions;
        t.finish();
        targets.push_back(target);
    }
    spec["targets"] = targets;
    json probes = json::array();
    const json& ps = array_at(c, "probes", none);
    for (size_t i = 0; i < ps.size(); ++i) probes.push_back(import_probe(Reader(ps[i], idx(c.at("probes"), i))));
    if (!probes.empty()) spec["probes"] = probes;
    if (const json* sv = c.get("sample_control")) {
        Reader s(*sv, c.at("sample_control"));
        if (const json* pv = s.get("primitives_enabled")) {
            Reader p(*pv, s.at("primitives_enabled"));
            if (const json* v = p.get("page_table"); v && !parse_bool(*v, p.at("page_table")))
                throw ValueError(p.at("page_table") + ": must be true: damond samples page tables");
            if (const json* v = p.get("page_fault"); v && parse_bool(*v, p.at("page_fault")))
                throw ValueError(p.at("page_fault") + ": must be false: damond does not sample page faults");
            p.finish();
        }
        must_be_empty(s, "sample_filters", "damond does not filter samples");
        s.finish();
    }
    if (const json* v = c.get("pause")) spec["pause"] = parse_bool(*v, c.at("pause"));
    json schemes = json::array();
    const json& ss = array_at(c, "schemes", none);
    for (size_t i = 0; i < ss.size(); ++i)
        schemes.push_back(import_scheme(Reader(ss[i], idx(c.at("schemes"), i)), sample_us, aggr_us, raw));
    spec["schemes"] = schemes;
    c.finish();
    return spec;
}

}  // namespace

std::vector<ImportedContext> import_kdamonds(const json& doc, Units units) {
    const json* list = &doc;
    std::string base = "kdamonds";
    if (doc.is_object()) {
        Reader top(doc, "");
        list = &top.need("kdamonds");
        top.finish();
    }
    if (!list->is_array()) throw ValueError(base + ": must be a list of kdamonds");
    std::vector<ImportedContext> out;
    for (size_t k = 0; k < list->size(); ++k) {
        Reader kd((*list)[k], idx(base, k));
        if (const json* v = kd.get("refresh_ms"); v && parse_count(*v, kd.at("refresh_ms")) != 0)
            throw ValueError(
                kd.at("refresh_ms") +
                ": must be 0: damond reads the kernel's stats when asked and does not run periodic refreshes");
        kd.ignore({"state", "pid"});  // report output: what was running
        static const json none = json::array();
        const json& cs = array_at(kd, "contexts", none);
        if (cs.size() != 1)
            throw ValueError(kd.at("contexts") +
                             ": must hold exactly one context (the kernel runs one per kdamond), not " +
                             std::to_string(cs.size()));
        out.push_back({k, import_context(Reader(cs[0], idx(kd.at("contexts"), 0)), units)});
        kd.finish();
    }
    return out;
}

json export_kdamond(const json& spec, bool raw, std::vector<std::string>& notes) {
    const std::string ops = spec.value("ops", "");
    if (ops != "vaddr" && ops != "fvaddr" && ops != "paddr")
        throw ValueError("ops: " + ops +
                         " is damond's in-process access source; damo knows only vaddr, fvaddr and paddr");
    if (spec.value("seed", uint64_t(0)) != 0) notes.push_back("seed: damo has no sampling seed; left out");
    auto count = [&](uint64_t v) { return raw ? json(std::to_string(v)) : json(format_count(v)); };
    auto time_us = [&](uint64_t v) { return raw ? json(std::to_string(v)) : json(format_time_us(v)); };
    // damo --raw writes these in nanoseconds; damo's human form is exact.
    auto exact_us = [&](uint64_t v) { return raw ? json(decimal_times_pow10(v, 3)) : json(format_time_us(v)); };
    auto exact_ms = [&](uint64_t v) {
        if (raw) return json(decimal_times_pow10(v, 6));
        return v == kU64Max         ? json("max")
               : v > kU64Max / 1000 ? json(format_count(v) + " ms")
                                    : json(format_time_us(v * 1000));
    };
    auto bytes = [&](uint64_t v) {
        return raw ? json(std::to_string(v)) : v == kU64Max ? json("max") : json(format_count(v));
    };
    auto ratio = [&](uint64_t v, uint64_t per_one) {
        if (raw) {
            char buf[40];
            std::snprintf(buf, sizeof buf, "%llu.000000", (unsigned long long)v);
            return json(buf);
        }
        return json(format_ratio(v, per_one));
    };
    const json iv = spec.value("intervals", json::object());
    const json goal = iv.value("intervals_goal", json::object());
    json targets = json::array();
    for (const json& t : spec.value("targets", json::array())) {
        if (t.contains("workload")) notes.push_back("targets[].workload: a synthetic workload; left out");
        json regions = json::array();
        for (const json& r : t.value("regions", json::array()))
            regions.push_back({{"start", bytes(r["start"])}, {"end", bytes(r["end"])}});
        targets.push_back({{"pid", t.contains("pid_target") ? t["pid_target"] : json(nullptr)},
                           {"obsolete", false},
                           {"regions", regions}});
    }
    json schemes = json::array();
    for (const json& s : spec.value("schemes", json::array())) {
        const json ap = s.value("access_pattern", json::object());
        const json q = s.value("quotas", json::object());
        const json w = s.value("watermarks", json::object());
        const json weights = q.value("weights", json::object());
        auto mm = [&](const char* key, uint64_t def_max) {
            const json v = ap.value(key, json::object());
            return std::pair<uint64_t, uint64_t>{v.value("min", uint64_t(0)), v.value("max", def_max)};
        };
        const auto [szmin, szmax] = mm("sz", kU64Max);
        const auto [nrmin, nrmax] = mm("nr_accesses", kU32Max);
        const auto [agemin, agemax] = mm("age", kU32Max);
        json goals = json::array();
        for (const json& g : q.value("goals", json::array())) {
            const std::string metric = g.value("target_metric", "user_input");
            const uint64_t nid = g.value("nid", uint64_t(0));
            const std::string path = g.value("path", "");
            goals.push_back({{"metric", metric},
                             {"nid", metric.rfind("node_", 0) == 0 || nid ? json(nid) : json(nullptr)},
                             {"memcg_path", path.empty() ? json(nullptr) : json(path)},
                             {"target_value", count(g.value("target_value", uint64_t(0)))},
                             {"current_value", count(g.value("current_value", uint64_t(0)))}});
        }
        json filters = json::array();
        for (const json& f : s.value("filters", json::array())) {
            const std::string type = f.value("type", "");
            filters.push_back(
                {{"filter_type", type},
                 {"matching", f.value("matching", false)},
                 {"allow", f.value("allow", false)},
                 {"memcg_path", type == "memcg" ? json(f.value("memcg_path", "")) : json(nullptr)},
                 {"address_range", type == "addr" ? json{{"start", bytes(f.value("addr_start", uint64_t(0)))},
                                                         {"end", bytes(f.value("addr_end", uint64_t(0)))}}
                                                  : json(nullptr)},
                 {"damon_target_idx",
                  type == "target" ? json(f.value("damon_target_idx", uint64_t(0))) : json(nullptr)},
                 {"hugepage_size", type == "hugepage_size" ? json::array({bytes(f.value("min", uint64_t(0))),
                                                                          bytes(f.value("max", uint64_t(0)))})
                                                           : json(nullptr)}});
        }
        json scheme = {
            {"action", s.value("action", "stat")},
            {"dests", json::array()},
            {"access_pattern",
             {{"sz_bytes", {{"min", bytes(szmin)}, {"max", bytes(szmax)}}},
              {"nr_accesses", {{"min", format_count(nrmin) + " samples"}, {"max", format_count(nrmax) + " samples"}}},
              {"age",
               {{"min", format_count(agemin) + " aggr_intervals"},
                {"max", format_count(agemax) + " aggr_intervals"}}}}},
            {"apply_interval_us", time_us(s.value("apply_interval_us", uint64_t(0)))},
            {"quotas",
             {{"time_ms", exact_ms(q.value("ms", uint64_t(0)))},
              {"sz_bytes", bytes(q.value("bytes", uint64_t(0)))},
              {"reset_interval_ms", exact_ms(q.value("reset_interval_ms", uint64_t(0)))},
              {"fail_charge_num", count(0)},
              {"fail_charge_denom", count(0)},
              {"goals", goals},
              {"goal_tuner", "consist"},
              {"weights",
               {{"sz_permil", ratio(weights.value("sz_permil", uint64_t(0)), 1000)},
                {"nr_accesses_permil", ratio(weights.value("nr_accesses_permil", uint64_t(0)), 1000)},
                {"age_permil", ratio(weights.value("age_permil", uint64_t(0)), 1000)}}}}},
            {"watermarks",
             {{"metric", w.value("metric", "none")},
              {"interval_us", exact_us(w.value("interval_us", uint64_t(0)))},
              {"high_permil", ratio(w.value("high", uint64_t(0)), 1000)},
              {"mid_permil", ratio(w.value("mid", uint64_t(0)), 1000)},
              {"low_permil", ratio(w.value("low", uint64_t(0)), 1000)}}},
            {"filters", filters}};
        if (const int64_t nid = s.value("target_nid", int64_t(-1)); nid >= 0) scheme["target_nid"] = nid;
        schemes.push_back(scheme);
    }
    json probes = json::array();
    for (const json& p : spec.value("probes", json::array())) {
        json filters = json::array();
        for (const json& f : p.value("filters", json::array()))
            filters.push_back({{"filter_type", f.value("type", "anon")},
                               {"matching", f.value("matching", true)},
                               {"allow", f.value("allow", false)},
                               {"path", f.value("memcg_path", "")}});
        probes.push_back({{"filters", filters}});
    }
    json context = {
        {"ops", ops},
        {"addr_unit", raw ? json("1") : json("1 B")},
        {"targets", targets},
        {"intervals",
         {{"sample_us", time_us(iv.value("sample_us", uint64_t(5000)))},
          {"aggr_us", time_us(iv.value("aggr_us", uint64_t(100000)))},
          {"ops_update_us", time_us(iv.value("update_us", uint64_t(60000000)))},
          {"intervals_goal",
           {{"access_bp", ratio(goal.value("access_bp", uint64_t(0)), 10000)},
            {"aggrs", count(goal.value("aggrs", uint64_t(0)))},
            {"min_sample_us", time_us(goal.value("min_sample_us", uint64_t(0)))},
            {"max_sample_us", time_us(goal.value("max_sample_us", uint64_t(0)))}}}}},
        {"nr_regions",
         {{"min", count(spec.value("nr_regions", json::object()).value("min", uint64_t(10)))},
          {"max", count(spec.value("nr_regions", json::object()).value("max", uint64_t(1000)))}}},
        {"probes", probes},
        {"sample_control",
         {{"primitives_enabled", {{"page_table", true}, {"page_fault", false}}}, {"sample_filters", json::array()}}},
        {"pause", spec.value("pause", false)},
        {"schemes", schemes}};
    return {{"refresh_ms", 0}, {"contexts", json::array({context})}};
}

}  // namespace damonctl::damo
