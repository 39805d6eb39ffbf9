// Commands on contexts: pause, resume, remove, create, commit, reload, and
// the snapshot as a table with a size-weighted summary.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "spec_patch.hpp"

namespace damonctl {

using nlohmann::json;

int cmd_pause(Args& a) {
    a.expect(1, "damonctl pause CONTEXT");
    Damond d;
    call([&] { d.manager().PauseContext(a.words[0]); });
    return kOk;
}

int cmd_resume(Args& a) {
    a.expect(1, "damonctl resume CONTEXT");
    Damond d;
    call([&] { d.manager().ResumeContext(a.words[0]); });
    return kOk;
}

int cmd_remove(Args& a) {
    a.expect(1, "damonctl remove CONTEXT");
    Damond d;
    call([&] { d.manager().RemoveContext(a.words[0]); });
    return kOk;
}

int cmd_create(Args& a) {
    a.expect(2, "damonctl create NAME FILE|-");
    const std::string spec = read_input(a.words[1]);
    Damond d;
    const std::string path = call([&] { return d.manager().CreateContext(a.words[0], spec); });
    if (a.json) std::cout << json{{"name", a.words[0]}, {"object", path}}.dump() << '\n';
    return kOk;
}

int cmd_commit(Args& a) {
    a.expect(2, "damonctl commit CONTEXT FILE|-|key.path=value...", true);
    const std::string name = a.words[0];
    Damond d;
    std::string patch;
    if (a.words.size() == 2 && !is_assignment(a.words[1])) {
        patch = read_input(a.words[1]);
    } else {
        const std::vector<std::string> assignments(a.words.begin() + 1, a.words.end());
        auto ctx = d.context(name);
        const json current = json::parse(call([&] { return ctx->Spec(); }));
        patch = merge_patch(current, assign(current, assignments)).dump();
    }
    call([&] { d.manager().CommitContext(name, patch); });
    return kOk;
}

int cmd_reload(Args& a) {
    a.expect(0, "damonctl reload");
    Damond d;
    call([&] { d.manager().Reload(); });
    return kOk;
}

namespace {

struct Weighted {
    uint64_t value, bytes;
};

// The value below which `share` of the bytes lie.
uint64_t percentile(std::vector<Weighted> v, double share) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end(), [](const Weighted& x, const Weighted& y) { return x.value < y.value; });
    uint64_t total = 0;
    for (const auto& w : v) total += w.bytes;
    const double goal = share * double(total);
    uint64_t seen = 0;
    for (const auto& w : v) {
        seen += w.bytes;
        if (double(seen) >= goal) return w.value;
    }
    return v.back().value;
}

}  // namespace

int cmd_snapshot(Args& a) {
    a.expect(1, "damonctl snapshot CONTEXT [--json]");
    Damond d;
    auto ctx = d.context(a.words[0]);
    const std::string text = call([&] { return ctx->Snapshot(); });
    if (a.json) {
        std::cout << json::parse(text).dump(2) << '\n';
        return kOk;
    }
    const json snap = json::parse(text);
    const uint64_t aggr_us = snap.value("intervals", json::object()).value("aggr_us", uint64_t(0));
    const uint64_t sample_us = snap.value("intervals", json::object()).value("sample_us", uint64_t(1));
    const uint64_t max_samples = sample_us ? std::max<uint64_t>(1, aggr_us / sample_us) : 1;
    std::vector<Weighted> idle;
    uint64_t total = 0, accessed = 0;
    size_t t_index = 0;
    for (const auto& t : snap["targets"]) {
        std::cout << "target " << t_index++ << ":\n";
        Table table({"START", "END", "SIZE", "ACCESSES", "RATE", "AGE", "IDLE FOR"});
        for (const auto& r : t["regions"]) {
            const uint64_t start = r["start"], end = r["end"], size = end - start;
            const uint32_t acc = r.value("last_nr_accesses", r.value("nr_accesses", 0u));
            const uint32_t age = r["age"];
            const uint64_t idle_us = acc ? 0 : uint64_t(age) * aggr_us;
            total += size;
            if (acc) accessed += size;
            idle.push_back({idle_us, size});
            char s[24], e[24];
            std::snprintf(s, sizeof s, "0x%llx", (unsigned long long)start);
            std::snprintf(e, sizeof e, "0x%llx", (unsigned long long)end);
            table.add({s, e, human_size(size), std::to_string(acc), std::to_string(acc * 100 / max_samples) + " %",
                       std::to_string(age), acc ? "-" : human_duration_us(idle_us)});
        }
        table.print(std::cout, "  ");
    }
    std::cout << "\naggregations " << snap.value("nr_aggregations", uint64_t(0)) << ", aggregation interval "
              << human_duration_us(aggr_us) << ", sample interval " << human_duration_us(sample_us) << '\n';
    std::cout << "total " << human_size(total) << ", working set (accessed in the last aggregation) "
              << human_size(accessed);
    if (total) std::cout << " (" << accessed * 100 / total << " %)";
    std::cout << "\nidle time by size: p50 " << human_duration_us(percentile(idle, 0.5)) << ", p90 "
              << human_duration_us(percentile(idle, 0.9)) << ", p99 " << human_duration_us(percentile(idle, 0.99))
              << ", max " << human_duration_us(percentile(idle, 1.0)) << '\n';
    return kOk;
}

}  // namespace damonctl
