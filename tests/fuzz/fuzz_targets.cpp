#include "fuzz_targets.hpp"

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/errors.hpp"
#include "core/clock.hpp"
#include "core/system_metrics.hpp"
#include "damo_json.hpp"
#include "kernel/readback_files.hpp"
#include "kernel/sysfs_tree.hpp"
#include "manager/config.hpp"
#include "manager/saved_state.hpp"
#include "monitor/executor.hpp"
#include "monitor/inprocess_monitor.hpp"
#include "spec/spec_error.hpp"
#include "spec/spec_json.hpp"
#include "spec/spec_limits.hpp"

namespace damond::fuzz {

namespace {

void check(bool ok, const std::string& what) {
    if (!ok) throw FuzzFailure(what);
}

std::string text_of(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// Input made of parts: "a\0b\0c" -> {"a", "b", "c"}.
std::vector<std::string> parts_of(const uint8_t* data, size_t size) {
    std::vector<std::string> out(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0)
            out.emplace_back();
        else
            out.back().push_back(static_cast<char>(data[i]));
    }
    return out;
}

// An accepted spec's canonical form must be accepted again, unchanged.
void check_round_trip(const ContextSpec& spec) {
    const nlohmann::json canonical = spec_to_json(spec);
    ContextSpec again;
    try {
        again = spec_from_json(canonical);
    } catch (const SpecError& e) {
        throw FuzzFailure(std::string("the canonical form of an accepted spec is refused: ") + e.what());
    }
    check(again == spec, "a spec changed through its canonical form: " + canonical.dump());
}

// Specs a commit patches: the kinds damond runs.
const char* const kBaseSpecs[] = {
    R"({"ops": "synthetic", "seed": 3, "intervals": {"sample_us": 1000, "aggr_us": 20000},
        "nr_regions": {"min": 10, "max": 100},
        "targets": [{"regions": [{"start": 0, "end": 16777216}],
                     "workload": {"seed": 2, "sets": [{"start": 0, "end": 2097152, "access_bp": 8000}]}}]})",
    R"({"ops": "vaddr", "targets": [{"pid_target": 1}],
        "schemes": [{"action": "pageout", "access_pattern": {"age": {"min": 10, "max": 100}},
                     "quotas": {"ms": 10, "bytes": 4096, "reset_interval_ms": 1000,
                                "goals": [{"target_metric": "some_mem_psi_us", "target_value": 1000}]},
                     "watermarks": {"metric": "free_mem_rate", "interval_us": 1000000,
                                    "high": 500, "mid": 400, "low": 200}}]})",
    R"({"ops": "paddr", "targets": [{"regions": [{"start": 4096, "end": 1073741824}]}],
        "schemes": [{"action": "stat", "filters": [{"type": "anon", "matching": true}]}]})",
};

// A tree in memory: file contents by path.
class MapTree : public SysfsTree {
public:
    std::map<std::string, std::string> files;

    bool exists(const std::string& path) const override { return files.count(path) || is_dir(path); }
    bool is_dir(const std::string& path) const override {
        auto it = files.lower_bound(path + "/");
        return it != files.end() && it->first.compare(0, path.size() + 1, path + "/") == 0;
    }
    bool writable(const std::string&) const override { return false; }
    std::string read(const std::string& path) const override {
        auto it = files.find(path);
        if (it == files.end()) throw SysfsError(ENOENT, path, "no such file");
        return it->second;
    }
    void write(const std::string& path, const std::string&) override {
        throw SysfsError(EACCES, path, "read-only tree");
    }
    std::vector<std::string> list(const std::string& dir) const override {
        std::set<std::string> names;
        const std::string prefix = dir + "/";
        for (auto it = files.lower_bound(prefix); it != files.end() && it->first.compare(0, prefix.size(), prefix) == 0;
             ++it)
            names.insert(it->first.substr(prefix.size(), it->first.find('/', prefix.size()) - prefix.size()));
        return {names.begin(), names.end()};
    }
};

// A virtual clock that jumps from deadline to deadline.
struct VirtualRun {
    ManualClock clock;
    InlineExecutor executor{clock};
    NoSystemMetrics metrics;

    // Runs due timers until `pred` holds or `max_steps` deadlines passed.
    template <typename Pred>
    void run(size_t max_steps, Pred pred) {
        for (size_t i = 0; i < max_steps && !pred(); ++i) {
            const auto next = executor.scheduler().next_deadline();
            if (!next) return;
            check(*next >= clock.now_us(), "a deadline in the past");
            clock.set(*next);
            executor.scheduler().run_due(*next);
        }
    }
};

}  // namespace

int spec(const uint8_t* data, size_t size) {
    ContextSpec s;
    try {
        s = spec_from_json_text(text_of(data, size));
    } catch (const SpecError&) {
        return 0;
    }
    check_round_trip(s);
    return 0;
}

int commit(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const ContextSpec base = spec_from_json_text(kBaseSpecs[data[0] % std::size(kBaseSpecs)]);
    ContextSpec next;
    try {
        next = spec_apply_patch(base, text_of(data + 1, size - 1));
    } catch (const SpecError&) {
        return 0;
    }
    check_round_trip(next);
    return 0;
}

int config(const uint8_t* data, size_t size) {
    Config c;
    try {
        c = config_from_json_text(text_of(data, size));
    } catch (const SpecError&) {
        return 0;
    }
    for (const auto& [name, s] : c.contexts) check_round_trip(s);
    for (const auto& [name, s] : c.apps.profiles) check_round_trip(s);
    check(kernel_pool_size(c) <= kMaxKdamonds, "an accepted config needs more kdamonds than damond asks for");
    return 0;
}

int saved_state(const uint8_t* data, size_t size) {
    SavedState s;
    try {
        s = saved_state_from_json(text_of(data, size));
    } catch (const std::runtime_error&) {
        return 0;
    }
    // What was accepted is written back and read again the same.
    const std::string written = saved_state_to_json(s);
    const SavedState again = saved_state_from_json(written);
    check(saved_state_to_json(again) == written, "saved state changed through a save: " + written);
    return 0;
}

int checkpoint(const uint8_t* data, size_t size) {
    // A checkpoint offered to the spec it claims to be of: the monitor takes
    // it or says why not, then runs on whatever it took.
    VirtualRun v;
    // Two samples per aggregation: what is fuzzed is the checkpoint, and a
    // longer aggregation only made each input slower (700 inputs/s at 20).
    static const ContextSpec s = spec_from_json_text(R"({"ops": "synthetic", "seed": 3,
        "intervals": {"sample_us": 1000, "aggr_us": 2000}, "nr_regions": {"min": 10, "max": 100},
        "targets": [{"regions": [{"start": 0, "end": 16777216}],
                     "workload": {"seed": 2, "sets": [{"start": 0, "end": 2097152, "access_bp": 8000}]}}]})");
    // Inputs may name the identity as "@": the spec's own (read from a
    // checkpoint of it), so the regions are parsed.
    static const nlohmann::json identity = [&] {
        VirtualRun w;
        InProcessMonitor first(s, w.executor, w.metrics);
        first.start();
        return nlohmann::json::parse(first.checkpoint()).at("identity");
    }();
    InProcessMonitor m(s, v.executor, v.metrics);
    std::string text = text_of(data, size);
    for (size_t at; (at = text.find("\"@\"")) != std::string::npos;) text.replace(at, 3, identity.dump());
    const std::string why = m.warm_start_from(text);
    m.start();
    // Four aggregations take the regions it took through merges and splits.
    v.run(100, [&] { return m.snapshot().nr_aggregations >= 4; });
    if (why.empty()) {
        check(m.state() == MonitorState::Running, "a monitor that took a checkpoint does not run: " + m.error());
    }
    for (const auto& t : m.snapshot().targets)
        for (size_t i = 0; i < t.size(); ++i) {
            check(t[i].start < t[i].end, "an empty region after a warm start");
            check(i == 0 || t[i - 1].end <= t[i].start, "overlapping regions after a warm start");
        }
    m.stop();
    return 0;
}

int readback(const uint8_t* data, size_t size) {
    // Parts: for each region, start, end, nr_accesses, age; a last, short
    // group is the scheme's stats.
    const std::vector<std::string> parts = parts_of(data, size);
    MapTree tree;
    const std::string td = "s/tried_regions";
    tree.files[td + "/total_bytes"] = "0";
    const char* const fields[] = {"start", "end", "nr_accesses", "age"};
    size_t i = 0, region = 0;
    for (; i + 4 <= parts.size(); i += 4, ++region)
        for (size_t f = 0; f < 4; ++f) tree.files[td + "/" + std::to_string(region) + "/" + fields[f]] = parts[i + f];
    const char* const stats[] = {"nr_tried", "sz_tried", "nr_applied", "sz_applied", "qt_exceeds"};
    for (size_t f = 0; i < parts.size() && f < 5; ++i, ++f) tree.files[std::string("s/stats/") + stats[f]] = parts[i];

    try {
        const std::vector<SnapshotRegion> regions = read_tried_regions(tree, td);
        // Every region that ends past its start, in order; the others left out.
        std::vector<size_t> kept;
        for (size_t r = 0; r < region; ++r)
            if (parse_sysfs_u64(parts[r * 4 + 1]).value_or(0) > parse_sysfs_u64(parts[r * 4]).value_or(0))
                kept.push_back(r);
        check(regions.size() == kept.size(), "regions lost in the read-back");
        for (size_t r = 0; r < regions.size(); ++r) {
            check(regions[r].start < regions[r].end, "an empty region read back");
            check(r == 0 || regions[r - 1].end <= regions[r].start, "overlapping regions read back");
            check(*parse_sysfs_u64(parts[kept[r] * 4]) == regions[r].start, "a start read back wrong");
        }
        read_scheme_stats(tree, "s");
    } catch (const SysfsError& e) {
        check(e.code().value() == EINVAL && !e.path().empty(), std::string("an unnamed read-back error: ") + e.what());
    }
    return 0;
}

int core(const uint8_t* data, size_t size) {
    // A spec, then optionally "\0" and a commit's merge patch applied halfway.
    const std::vector<std::string> parts = parts_of(data, size);
    ContextSpec s;
    try {
        s = spec_from_json_text(parts[0]);
    } catch (const SpecError&) {
        return 0;
    }
    if (s.ops != Ops::Synthetic) return 0;  // the others watch real processes
    try {
        check_spec_bytes(parts[0].size(), SpecLimits{});
        check_spec_limits(s, SpecLimits{});
    } catch (const LimitError&) {
        return 0;  // damond refuses it before it runs
    }
    VirtualRun v;
    std::unique_ptr<InProcessMonitor> m;
    try {
        m = std::make_unique<InProcessMonitor>(s, v.executor, v.metrics);
    } catch (const DamondError& e) {
        check(e.kind() == ErrorKind::NotSupported, std::string("an accepted spec fails otherwise: ") + e.what());
        return 0;
    }
    m->start();
    // N aggregations, or as many sampling intervals as a test can afford
    // (a spec may rightly aggregate once a day).
    constexpr uint64_t kAggregations = 6, kSteps = 3000;
    v.run(kSteps, [&] { return m->snapshot().nr_aggregations >= kAggregations / 2; });
    m->pause();
    m->resume();
    if (parts.size() > 1) {
        try {
            const ContextSpec next = spec_apply_patch(s, parts[1]);
            if (next.ops == Ops::Synthetic) m->commit(next);
        } catch (const SpecError&) {
        } catch (const DamondError& e) {
            check(e.kind() == ErrorKind::NotSupported || e.kind() == ErrorKind::InvalidSpec,
                  std::string("a commit of an accepted spec fails otherwise: ") + e.what());
        }
    }
    v.run(kSteps, [&] { return m->snapshot().nr_aggregations >= kAggregations; });
    const MonitorSnapshot snap = m->snapshot();
    for (const auto& t : snap.targets)
        for (size_t i = 0; i < t.size(); ++i) {
            check(t[i].start < t[i].end, "an empty region");
            check(i == 0 || t[i - 1].end <= t[i].start, "overlapping regions");
        }
    check(m->state() != MonitorState::Failed || !m->error().empty(), "failed without saying why");
    m->stop();
    return 0;
}

int damo(const uint8_t* data, size_t size) {
    // damo's kdamonds JSON as damonctl imports it: refused with a path, or
    // imported; whatever damond's rules accept exports to damo's human and
    // raw forms and imports back to the very same spec.
    const nlohmann::json doc = nlohmann::json::parse(text_of(data, size), nullptr, false);
    if (doc.is_discarded()) return 0;
    std::vector<damonctl::damo::ImportedContext> imported;
    try {
        imported = damonctl::damo::import_kdamonds(doc, damonctl::damo::Units::Detect);
    } catch (const damonctl::damo::ValueError& e) {
        check(std::string(e.what()).find(':') != std::string::npos,
              std::string("a refusal without a path: ") + e.what());
        return 0;
    }
    for (const auto& c : imported) {
        nlohmann::json canonical;
        try {
            canonical = spec_to_json(spec_from_json(c.spec));
        } catch (const SpecError&) {
            continue;  // damonctl refuses it before anything is created
        }
        for (const bool raw : {false, true}) {
            std::vector<std::string> notes;
            nlohmann::json kdamond;
            try {
                kdamond = damonctl::damo::export_kdamond(canonical, raw, notes);
            } catch (const damonctl::damo::ValueError& e) {
                throw FuzzFailure(std::string("an imported spec does not export: ") + e.what());
            }
            std::vector<damonctl::damo::ImportedContext> again;
            try {
                again = damonctl::damo::import_kdamonds(
                    {{"kdamonds", {kdamond}}}, raw ? damonctl::damo::Units::Raw : damonctl::damo::Units::Human);
            } catch (const damonctl::damo::ValueError& e) {
                throw FuzzFailure(std::string("an export does not import: ") + e.what() + "\n" + kdamond.dump());
            }
            check(again.size() == 1, "an export of one context imports as several");
            check(spec_to_json(spec_from_json(again[0].spec)) == canonical,
                  std::string(raw ? "raw" : "human") + " export and import changed the spec: " + canonical.dump() +
                      " -> " + kdamond.dump());
        }
    }
    return 0;
}

}  // namespace damond::fuzz
