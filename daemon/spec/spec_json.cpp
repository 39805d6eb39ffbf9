#include "spec/spec_json.hpp"

#include "spec/json_object_reader.hpp"
#include "spec/spec_names.hpp"

namespace damond {

using nlohmann::json;

const char* to_string(Ops v) { return name_of(kOpsNames, v); }

bool watches_process(Ops ops) { return ops != Ops::Paddr && ops != Ops::Synthetic; }

bool is_inprocess_source(Ops ops) { return ops != Ops::Vaddr && ops != Ops::Fvaddr && ops != Ops::Paddr; }
const char* to_string(Action v) { return name_of(kActionNames, v); }
const char* to_string(FilterType v) { return name_of(kFilterTypeNames, v); }
const char* to_string(GoalMetric v) { return name_of(kGoalMetricNames, v); }
const char* to_string(WatermarkMetric v) { return name_of(kWatermarkMetricNames, v); }

namespace {

template <typename E, size_t N>
E read_keyword(JsonObjectReader& r, const std::string& key, const NameTable<E, N>& table, std::optional<E> fallback,
               const char* what) {
    if (!r.has(key)) {
        if (fallback) {
            r.member(key);
            return *fallback;
        }
        throw SpecError(r.path_of(key), std::string("is required (") + what + ": " + names_list(table) + ")");
    }
    const std::string name = r.string(key, "");
    if (auto v = value_of(table, name)) return *v;
    throw SpecError(r.path_of(key),
                    std::string("unknown ") + what + " '" + name + "' (expected " + names_list(table) + ")");
}

void check_min_max(const MinMax& mm, const std::string& path) {
    if (mm.min > mm.max)
        throw SpecError(path + ".min", "must not exceed " + path + ".max (" + std::to_string(mm.min) + " > " +
                                           std::to_string(mm.max) + ")");
}

MinMax read_min_max(const json& j, const std::string& path, MinMax fallback, uint64_t max) {
    JsonObjectReader r(j, path);
    MinMax mm{r.u64("min", fallback.min, max), r.u64("max", fallback.max, max)};
    r.reject_unknown_keys();
    check_min_max(mm, path);
    return mm;
}

AddrRange read_range_fields(JsonObjectReader& r, const char* start_key, const char* end_key) {
    if (!r.has(start_key)) throw SpecError(r.path_of(start_key), "is required");
    if (!r.has(end_key)) throw SpecError(r.path_of(end_key), "is required");
    AddrRange range{r.u64(start_key, 0), r.u64(end_key, 0)};
    if (range.end > kMaxAddressEnd)
        throw SpecError(r.path_of(end_key), "must not exceed " + std::to_string(kMaxAddressEnd) +
                                                " (the last page boundary of a 64-bit address space; regions are "
                                                "page-aligned)");
    if (range.start >= range.end)
        throw SpecError(r.path_of(end_key), std::string("must be greater than ") + start_key + " (" +
                                                std::to_string(range.start) + " >= " + std::to_string(range.end) + ")");
    return range;
}

AddrRange read_range(const json& j, const std::string& path) {
    JsonObjectReader r(j, path);
    AddrRange range = read_range_fields(r, "start", "end");
    r.reject_unknown_keys();
    return range;
}

// The kernel rejects unsorted or overlapping regions at on/commit time.
void check_sorted_disjoint(const std::vector<AddrRange>& ranges, const std::string& path) {
    for (size_t i = 1; i < ranges.size(); ++i)
        if (ranges[i].start < ranges[i - 1].end)
            throw SpecError(json_index_path(path, i) + ".start",
                            "ranges must be sorted and must not overlap (starts before the end of entry " +
                                std::to_string(i - 1) + ")");
}

Intervals read_intervals(const json& j, const std::string& path) {
    JsonObjectReader r(j, path);
    Intervals iv;
    iv.sample_us = r.u64("sample_us", iv.sample_us);
    iv.aggr_us = r.u64("aggr_us", iv.aggr_us);
    iv.update_us = r.u64("update_us", iv.update_us);
    if (const json* g = r.member("intervals_goal")) {
        JsonObjectReader gr(*g, r.path_of("intervals_goal"));
        iv.intervals_goal.access_bp = gr.u64("access_bp", 0, 10000);
        iv.intervals_goal.aggrs = gr.u64("aggrs", 0, kU32Max);
        iv.intervals_goal.min_sample_us = gr.u64("min_sample_us", 0);
        iv.intervals_goal.max_sample_us = gr.u64("max_sample_us", 0);
        gr.reject_unknown_keys();
    }
    r.reject_unknown_keys();

    if (iv.sample_us == 0) throw SpecError(r.path_of("sample_us"), "must be greater than 0");
    const std::pair<const char*, uint64_t> intervals[] = {
        {"sample_us", iv.sample_us}, {"aggr_us", iv.aggr_us}, {"update_us", iv.update_us}};
    for (const auto& [key, v] : intervals) {
        if (v > kMaxIntervalUs)
            throw SpecError(r.path_of(key), "must not exceed " + std::to_string(kMaxIntervalUs) +
                                                " (about 12 days), got " + std::to_string(v));
    }
    if (iv.intervals_goal.max_sample_us > kMaxIntervalUs)
        throw SpecError(r.path_of("intervals_goal") + ".max_sample_us",
                        "must not exceed " + std::to_string(kMaxIntervalUs) + " (about 12 days)");
    if (iv.aggr_us < iv.sample_us)
        throw SpecError(r.path_of("aggr_us"), "must be at least intervals.sample_us (" + std::to_string(iv.aggr_us) +
                                                  " < " + std::to_string(iv.sample_us) + ")");
    // A region's access rate is counted in 1/10000 of a sample in 32 bits,
    // as the kernel's nr_accesses_bp is.
    if (iv.aggr_us / iv.sample_us > kMaxSamplesPerAggregation)
        throw SpecError(r.path_of("aggr_us"), "must be at most " + std::to_string(kMaxSamplesPerAggregation) +
                                                  " sampling intervals (aggr_us / sample_us = " +
                                                  std::to_string(iv.aggr_us / iv.sample_us) + ")");
    const IntervalsGoal& g = iv.intervals_goal;
    const std::string gpath = r.path_of("intervals_goal");
    if (g.aggrs != 0) {
        if (g.access_bp == 0) throw SpecError(gpath + ".access_bp", "must be greater than 0 when aggrs is set");
        if (g.min_sample_us > g.max_sample_us)
            throw SpecError(gpath + ".min_sample_us", "must not exceed max_sample_us (" +
                                                          std::to_string(g.min_sample_us) + " > " +
                                                          std::to_string(g.max_sample_us) + ")");
        if (iv.sample_us < g.min_sample_us || iv.sample_us > g.max_sample_us)
            throw SpecError(r.path_of("sample_us"),
                            "must lie within intervals_goal.min_sample_us..max_sample_us "
                            "while auto-tuning is on");
    }
    return iv;
}

NrRegions read_nr_regions(const json& j, const std::string& path) {
    JsonObjectReader r(j, path);
    NrRegions nr;
    nr.min = r.u64("min", nr.min, kU32Max);
    nr.max = r.u64("max", nr.max, kU32Max);
    r.reject_unknown_keys();
    if (nr.min < 3) throw SpecError(r.path_of("min"), "must be at least 3, got " + std::to_string(nr.min));
    check_min_max(MinMax{nr.min, nr.max}, path);
    return nr;
}

const char* kind_name(AccessKind k) {
    return k == AccessKind::Read ? "read" : k == AccessKind::Write ? "write" : "both";
}

std::vector<WorkloadSet> read_sets(const json& sets, const std::string& path) {
    std::vector<WorkloadSet> out;
    for (size_t i = 0; i < sets.size(); ++i) {
        const std::string spath = json_index_path(path, i);
        JsonObjectReader sr(sets[i], spath);
        WorkloadSet set;
        set.range = read_range_fields(sr, "start", "end");
        set.access_bp = sr.u64("access_bp", 0, 10000);
        const std::string kind = sr.string("kind", "both");
        if (kind == "read")
            set.kind = AccessKind::Read;
        else if (kind == "write")
            set.kind = AccessKind::Write;
        else if (kind != "both")
            throw SpecError(sr.path_of("kind"), "unknown kind '" + kind + "' (expected both, read or write)");
        sr.reject_unknown_keys();
        out.push_back(set);
    }
    std::vector<AddrRange> ranges;
    for (const auto& s : out) ranges.push_back(s.range);
    check_sorted_disjoint(ranges, path);
    return out;
}

SyntheticWorkload read_workload(const json& j, const std::string& path) {
    JsonObjectReader r(j, path);
    SyntheticWorkload w;
    w.seed = r.u64("seed", 0);
    if (const json* sets = r.array("sets")) w.sets = read_sets(*sets, r.path_of("sets"));
    if (const json* phases = r.array("phases")) {
        if (!w.sets.empty() && !phases->empty())
            throw SpecError(r.path_of("phases"), "cannot be given together with sets");
        for (size_t i = 0; i < phases->size(); ++i) {
            const std::string ppath = json_index_path(r.path_of("phases"), i);
            JsonObjectReader pr((*phases)[i], ppath);
            WorkloadPhase phase;
            phase.duration_samples = pr.u64("duration_samples", 0);
            if (const json* sets = pr.array("sets")) phase.sets = read_sets(*sets, pr.path_of("sets"));
            pr.reject_unknown_keys();
            if (phase.duration_samples == 0 && i + 1 < phases->size())
                throw SpecError(pr.path_of("duration_samples"),
                                "is 0 (forever), so the phases after it would never run");
            w.phases.push_back(std::move(phase));
        }
    }
    if (const json* d = r.member("defects")) {
        JsonObjectReader dr(*d, r.path_of("defects"));
        w.defects.write_only = dr.boolean("write_only", false);
        w.defects.miss_bp = dr.u64("miss_bp", 0, 10000);
        if (const json* maps = dr.array("mappings"))
            for (size_t i = 0; i < maps->size(); ++i)
                w.defects.mappings.push_back(read_range((*maps)[i], json_index_path(dr.path_of("mappings"), i)));
        dr.reject_unknown_keys();
        check_sorted_disjoint(w.defects.mappings, dr.path_of("mappings"));
    }
    r.reject_unknown_keys();
    return w;
}

json sets_json(const std::vector<WorkloadSet>& sets) {
    json out = json::array();
    for (const WorkloadSet& s : sets)
        out.push_back(
            {{"start", s.range.start}, {"end", s.range.end}, {"access_bp", s.access_bp}, {"kind", kind_name(s.kind)}});
    return out;
}

Target read_target(const json& j, const std::string& path, Ops ops) {
    JsonObjectReader r(j, path);
    Target t;
    if (r.has("pid_target"))
        t.pid_target = r.i64("pid_target", 0, 1, INT32_MAX);
    else
        r.member("pid_target");
    if (const json* regions = r.array("regions"))
        for (size_t i = 0; i < regions->size(); ++i)
            t.regions.push_back(read_range((*regions)[i], json_index_path(r.path_of("regions"), i)));
    if (const json* w = r.member("workload")) t.workload = read_workload(*w, r.path_of("workload"));
    r.reject_unknown_keys();
    check_sorted_disjoint(t.regions, r.path_of("regions"));

    const bool wants_pid = watches_process(ops);
    if (wants_pid && !t.pid_target)
        throw SpecError(r.path_of("pid_target"), std::string("is required for ops ") + to_string(ops));
    if (!wants_pid && t.pid_target)
        throw SpecError(r.path_of("pid_target"),
                        std::string("is only valid for ops that monitor a process, not ") + to_string(ops));
    if (ops == Ops::Fvaddr && t.regions.empty())
        throw SpecError(r.path_of("regions"), "must not be empty for ops fvaddr");
    if (t.workload && ops != Ops::Synthetic)
        throw SpecError(r.path_of("workload"), std::string("is only valid for ops synthetic, not ") + to_string(ops));
    return t;
}

QuotaGoal read_goal(const json& j, const std::string& path) {
    JsonObjectReader r(j, path);
    QuotaGoal g;
    g.target_metric = read_keyword(r, "target_metric", kGoalMetricNames, std::optional<GoalMetric>{}, "metric");
    g.target_value = r.u64("target_value", 0);
    g.current_value = r.u64("current_value", 0);
    g.nid = r.i64("nid", 0, 0, INT32_MAX);
    g.path = r.string("path", "");
    r.reject_unknown_keys();
    // Newer kernels refuse 0 inside the commit, which kills the kdamond.
    if (g.target_value == 0) throw SpecError(r.path_of("target_value"), "must be greater than 0");
    const bool memcg = g.target_metric == GoalMetric::NodeMemcgUsedBp || g.target_metric == GoalMetric::NodeMemcgFreeBp;
    if (memcg && g.path.empty())
        throw SpecError(r.path_of("path"), std::string("is required for metric ") + to_string(g.target_metric));
    return g;
}

Quotas read_quotas(const json& j, const std::string& path) {
    JsonObjectReader r(j, path);
    Quotas q;
    q.ms = r.u64("ms", 0);
    q.bytes = r.u64("bytes", 0);
    q.reset_interval_ms = r.u64("reset_interval_ms", 0);
    if (const json* w = r.member("weights")) {
        JsonObjectReader wr(*w, r.path_of("weights"));
        q.weights.sz_permil = wr.u64("sz_permil", 0, kU32Max);
        q.weights.nr_accesses_permil = wr.u64("nr_accesses_permil", 0, kU32Max);
        q.weights.age_permil = wr.u64("age_permil", 0, kU32Max);
        wr.reject_unknown_keys();
    }
    if (const json* goals = r.array("goals"))
        for (size_t i = 0; i < goals->size(); ++i)
            q.goals.push_back(read_goal((*goals)[i], json_index_path(r.path_of("goals"), i)));
    r.reject_unknown_keys();
    return q;
}

Watermarks read_watermarks(const json& j, const std::string& path) {
    JsonObjectReader r(j, path);
    Watermarks w;
    w.metric = read_keyword(r, "metric", kWatermarkMetricNames, std::optional{WatermarkMetric::None}, "metric");
    w.interval_us = r.u64("interval_us", 0);
    w.high = r.u64("high", 0, 1000);
    w.mid = r.u64("mid", 0, 1000);
    w.low = r.u64("low", 0, 1000);
    r.reject_unknown_keys();
    if (w.metric != WatermarkMetric::None) {
        if (w.mid > w.high) throw SpecError(r.path_of("mid"), "must not exceed high");
        if (w.low > w.mid) throw SpecError(r.path_of("low"), "must not exceed mid");
        if (w.interval_us == 0)
            throw SpecError(r.path_of("interval_us"), "must be greater than 0 when a metric is set");
    }
    return w;
}

Filter read_filter(const json& j, const std::string& path, size_t nr_targets) {
    JsonObjectReader r(j, path);
    Filter f;
    f.type = read_keyword(r, "type", kFilterTypeNames, std::optional<FilterType>{}, "filter type");
    f.matching = r.boolean("matching", true);
    f.allow = r.boolean("allow", false);
    f.memcg_path = r.string("memcg_path", "");
    f.addr_start = r.u64("addr_start", 0);
    f.addr_end = r.u64("addr_end", 0);
    f.damon_target_idx = r.u64("damon_target_idx", 0, kU32Max);
    f.min = r.u64("min", 0);
    f.max = r.u64("max", 0);
    r.reject_unknown_keys();
    switch (f.type) {
    case FilterType::Addr:
        if (f.addr_start >= f.addr_end) throw SpecError(r.path_of("addr_end"), "must be greater than addr_start");
        break;
    case FilterType::Target:
        if (f.damon_target_idx >= nr_targets)
            throw SpecError(r.path_of("damon_target_idx"),
                            "must name an existing target (the spec has " + std::to_string(nr_targets) + ")");
        break;
    case FilterType::Memcg:
        if (f.memcg_path.empty()) throw SpecError(r.path_of("memcg_path"), "is required for filter type memcg");
        break;
    case FilterType::HugepageSize: check_min_max(MinMax{f.min, f.max}, path); break;
    default: break;
    }
    return f;
}

Scheme read_scheme(const json& j, const std::string& path, size_t nr_targets) {
    JsonObjectReader r(j, path);
    Scheme s;
    s.action = read_keyword(r, "action", kActionNames, std::optional<Action>{}, "action");
    if (const json* ap = r.member("access_pattern")) {
        JsonObjectReader ar(*ap, r.path_of("access_pattern"));
        AccessPattern def;
        if (const json* v = ar.member("sz")) s.access_pattern.sz = read_min_max(*v, ar.path_of("sz"), def.sz, kU64Max);
        if (const json* v = ar.member("nr_accesses"))
            s.access_pattern.nr_accesses = read_min_max(*v, ar.path_of("nr_accesses"), def.nr_accesses, kU32Max);
        if (const json* v = ar.member("age"))
            s.access_pattern.age = read_min_max(*v, ar.path_of("age"), def.age, kU32Max);
        ar.reject_unknown_keys();
    }
    s.apply_interval_us = r.u64("apply_interval_us", 0);
    if (const json* q = r.member("quotas")) s.quotas = read_quotas(*q, r.path_of("quotas"));
    if (const json* w = r.member("watermarks")) s.watermarks = read_watermarks(*w, r.path_of("watermarks"));
    if (const json* filters = r.array("filters"))
        for (size_t i = 0; i < filters->size(); ++i)
            s.filters.push_back(read_filter((*filters)[i], json_index_path(r.path_of("filters"), i), nr_targets));
    s.target_nid = r.i64("target_nid", -1, -1, INT32_MAX);
    r.reject_unknown_keys();
    return s;
}

Probe read_probe(const json& j, const std::string& path, size_t nr_targets) {
    JsonObjectReader r(j, path);
    Probe p;
    if (const json* filters = r.array("filters"))
        for (size_t i = 0; i < filters->size(); ++i) {
            const std::string where = json_index_path(r.path_of("filters"), i);
            Filter f = read_filter((*filters)[i], where, nr_targets);
            if (f.type != FilterType::Anon && f.type != FilterType::Memcg)
                throw SpecError(where + ".type",
                                std::string("a probe's filter is anon or memcg, not ") + to_string(f.type));
            p.filters.push_back(std::move(f));
        }
    r.reject_unknown_keys();
    if (p.filters.empty()) throw SpecError(r.path_of("filters"), "a probe needs at least one filter");
    return p;
}

// The core sums region sizes over all targets (the size limit of a merge).
void check_total_span(const std::vector<Target>& targets) {
    uint64_t total = 0;
    for (size_t i = 0; i < targets.size(); ++i)
        for (const AddrRange& range : targets[i].regions) {
            const uint64_t size = range.end - range.start;
            if (size > kMaxAddressEnd - total)
                throw SpecError(json_index_path("targets", i) + ".regions",
                                "the ranges of all targets together must not span more than " +
                                    std::to_string(kMaxAddressEnd) + " bytes");
            total += size;
        }
}

json range_json(const AddrRange& r) { return {{"start", r.start}, {"end", r.end}}; }
json min_max_json(const MinMax& m) { return {{"min", m.min}, {"max", m.max}}; }

}  // namespace

ContextSpec spec_from_json(const json& j) {
    JsonObjectReader r(j, "");
    ContextSpec spec;
    spec.ops = read_keyword(r, "ops", kOpsNames, std::optional<Ops>{}, "ops");
    spec.seed = r.u64("seed", 0);
    spec.pause = r.boolean("pause", false);
    if (const json* v = r.member("intervals")) spec.intervals = read_intervals(*v, "intervals");
    if (const json* v = r.member("nr_regions")) spec.nr_regions = read_nr_regions(*v, "nr_regions");
    if (const json* targets = r.array("targets"))
        for (size_t i = 0; i < targets->size(); ++i)
            spec.targets.push_back(read_target((*targets)[i], json_index_path("targets", i), spec.ops));
    if (const json* schemes = r.array("schemes"))
        for (size_t i = 0; i < schemes->size(); ++i)
            spec.schemes.push_back(read_scheme((*schemes)[i], json_index_path("schemes", i), spec.targets.size()));
    if (const json* probes = r.array("probes")) {
        if (probes->size() > kMaxProbes)
            throw SpecError("probes", "at most " + std::to_string(kMaxProbes) +
                                          " probes (the kernel's DAMON_MAX_PROBES), got " +
                                          std::to_string(probes->size()));
        if (!probes->empty() && spec.ops != Ops::Paddr)
            throw SpecError("probes",
                            std::string("data-attribute probes are the kernel's paddr operations' (Linux 7.2+), not ") +
                                to_string(spec.ops) + "'s");
        for (size_t i = 0; i < probes->size(); ++i)
            spec.probes.push_back(read_probe((*probes)[i], json_index_path("probes", i), spec.targets.size()));
    }
    r.reject_unknown_keys();
    check_total_span(spec.targets);
    if (spec.ops == Ops::Paddr && spec.targets.size() > 1)
        throw SpecError("targets", "ops paddr takes at most one target, got " + std::to_string(spec.targets.size()));
    return spec;
}

ContextSpec spec_from_json_text(const std::string& text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers past 64 bits
        throw SpecError("", std::string("not valid JSON: ") + e.what());
    }
    return spec_from_json(j);
}

json spec_to_json(const ContextSpec& spec) {
    json targets = json::array();
    for (const Target& t : spec.targets) {
        json jt = json::object();
        if (t.pid_target) jt["pid_target"] = *t.pid_target;
        jt["regions"] = json::array();
        for (const AddrRange& r : t.regions) jt["regions"].push_back(range_json(r));
        if (t.workload) {
            const SyntheticWorkload& w = *t.workload;
            json phases = json::array();
            for (const WorkloadPhase& p : w.phases)
                phases.push_back({{"duration_samples", p.duration_samples}, {"sets", sets_json(p.sets)}});
            json mappings = json::array();
            for (const AddrRange& m : w.defects.mappings) mappings.push_back(range_json(m));
            jt["workload"] = {
                {"seed", w.seed},
                {"sets", sets_json(w.sets)},
                {"phases", phases},
                {"defects",
                 {{"write_only", w.defects.write_only}, {"mappings", mappings}, {"miss_bp", w.defects.miss_bp}}}};
        }
        targets.push_back(jt);
    }
    json schemes = json::array();
    for (const Scheme& s : spec.schemes) {
        json goals = json::array();
        for (const QuotaGoal& g : s.quotas.goals)
            goals.push_back({{"target_metric", to_string(g.target_metric)},
                             {"target_value", g.target_value},
                             {"current_value", g.current_value},
                             {"nid", g.nid},
                             {"path", g.path}});
        json filters = json::array();
        for (const Filter& f : s.filters)
            filters.push_back({{"type", to_string(f.type)},
                               {"matching", f.matching},
                               {"allow", f.allow},
                               {"memcg_path", f.memcg_path},
                               {"addr_start", f.addr_start},
                               {"addr_end", f.addr_end},
                               {"damon_target_idx", f.damon_target_idx},
                               {"min", f.min},
                               {"max", f.max}});
        schemes.push_back({
            {"action", to_string(s.action)},
            {"access_pattern",
             {{"sz", min_max_json(s.access_pattern.sz)},
              {"nr_accesses", min_max_json(s.access_pattern.nr_accesses)},
              {"age", min_max_json(s.access_pattern.age)}}},
            {"apply_interval_us", s.apply_interval_us},
            {"quotas",
             {{"ms", s.quotas.ms},
              {"bytes", s.quotas.bytes},
              {"reset_interval_ms", s.quotas.reset_interval_ms},
              {"weights",
               {{"sz_permil", s.quotas.weights.sz_permil},
                {"nr_accesses_permil", s.quotas.weights.nr_accesses_permil},
                {"age_permil", s.quotas.weights.age_permil}}},
              {"goals", goals}}},
            {"watermarks",
             {{"metric", to_string(s.watermarks.metric)},
              {"interval_us", s.watermarks.interval_us},
              {"high", s.watermarks.high},
              {"mid", s.watermarks.mid},
              {"low", s.watermarks.low}}},
            {"filters", filters},
            {"target_nid", s.target_nid},
        });
    }
    const Intervals& iv = spec.intervals;
    json out = {
        {"ops", to_string(spec.ops)},
        {"seed", spec.seed},
        {"pause", spec.pause},
        {"intervals",
         {{"sample_us", iv.sample_us},
          {"aggr_us", iv.aggr_us},
          {"update_us", iv.update_us},
          {"intervals_goal",
           {{"access_bp", iv.intervals_goal.access_bp},
            {"aggrs", iv.intervals_goal.aggrs},
            {"min_sample_us", iv.intervals_goal.min_sample_us},
            {"max_sample_us", iv.intervals_goal.max_sample_us}}}}},
        {"nr_regions", {{"min", spec.nr_regions.min}, {"max", spec.nr_regions.max}}},
        {"targets", targets},
        {"schemes", schemes},
    };
    // Only when there are: most specs never have any, on kernels that have none.
    if (!spec.probes.empty()) {
        json probes = json::array();
        for (const Probe& p : spec.probes) {
            json filters = json::array();
            for (const Filter& f : p.filters)
                filters.push_back({{"type", to_string(f.type)},
                                   {"matching", f.matching},
                                   {"allow", f.allow},
                                   {"memcg_path", f.memcg_path}});
            probes.push_back({{"filters", filters}});
        }
        out["probes"] = probes;
    }
    return out;
}

ContextSpec spec_apply_patch(const ContextSpec& current, const std::string& patch_text) {
    json patch;
    try {
        patch = json::parse(patch_text);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers past 64 bits
        throw SpecError("", std::string("not valid JSON: ") + e.what());
    }
    if (!patch.is_object()) throw SpecError("", "a commit must be a JSON object (a merge patch over the current spec)");
    json merged = spec_to_json(current);
    merged.merge_patch(patch);
    return spec_from_json(merged);
}

}  // namespace damond
