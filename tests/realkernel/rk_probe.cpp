// Runs inside the real-kernel guests, where there is no jq: reads what
// busctl --json=short prints for a Snapshot call on stdin and answers one
// question about it.
//   rk-probe hot-cold HOT_START HOT_END COLD_START COLD_END
//       size-weighted mean last_nr_accesses over each range: "hot=X cold=Y"
//   rk-probe ages START END
//       size-weighted mean and the max of the regions' ages over the range:
//       "mean_age=X max_age=Y nr_regions=N"
//   rk-probe label NAME
//       NAME escaped as an object path label, as damond's object paths are
//   rk-probe regions START END
//       the regions overlapping the range, one per line
//   rk-probe age-shift BEFORE.json AFTER.json START END
//       how the ages over the range moved from one snapshot to the other,
//       against the aggregations the kernel did in between: the ages at 256
//       evenly spread addresses, "aggregations=N median_shift=X within_one=F
//       within_two=G exactly=E monitored_mib=A/B" (E, F, G: the share of
//       addresses whose age moved by N exactly, plus or minus one or two)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bus_label.hpp"

using nlohmann::json;

namespace {

json snapshot_from(std::istream& in) {
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const json reply = json::parse(text);  // {"type": "s", "data": ["<snapshot json>"]}
    return json::parse(reply.at("data").at(0).get<std::string>());
}

json snapshot_from_stdin() { return snapshot_from(std::cin); }

json snapshot_from_file(const char* path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    return snapshot_from(in);
}

// The age of the region holding addr, or -1 when no region does.
long age_at(const json& snap, uint64_t addr) {
    for (const json& t : snap.at("targets"))
        for (const json& r : t.at("regions"))
            if (r.at("start").get<uint64_t>() <= addr && addr < r.at("end").get<uint64_t>())
                return r.at("age").get<long>();
    return -1;
}

struct Weighted {
    double sum = 0, size = 0, max = 0;
    int regions = 0;
};

Weighted over(const json& snap, uint64_t lo, uint64_t hi, const char* field) {
    Weighted w;
    for (const json& t : snap.at("targets"))
        for (const json& r : t.at("regions")) {
            const uint64_t s = std::max(lo, r.at("start").get<uint64_t>());
            const uint64_t e = std::min(hi, r.at("end").get<uint64_t>());
            if (s >= e) continue;
            const double v = r.at(field).get<double>();
            w.sum += v * double(e - s);
            w.size += double(e - s);
            w.max = std::max(w.max, v);
            ++w.regions;
        }
    return w;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string cmd = argc > 1 ? argv[1] : "";
        auto arg = [&](int i) { return std::strtoull(argv[i], nullptr, 0); };
        if (cmd == "hot-cold" && argc == 6) {
            const json snap = snapshot_from_stdin();
            const Weighted hot = over(snap, arg(2), arg(3), "last_nr_accesses");
            const Weighted cold = over(snap, arg(4), arg(5), "last_nr_accesses");
            std::printf("hot=%.2f cold=%.2f\n", hot.size ? hot.sum / hot.size : -1, cold.size ? cold.sum / cold.size : -1);
            return 0;
        }
        if (cmd == "ages" && argc == 4) {
            const Weighted a = over(snapshot_from_stdin(), arg(2), arg(3), "age");
            std::printf("mean_age=%.2f max_age=%.0f nr_regions=%d\n", a.size ? a.sum / a.size : -1, a.max, a.regions);
            return 0;
        }
        if (cmd == "label" && argc == 3) {  // a name as damond's object paths escape it
            std::printf("%s\n", damond::bus_label_escape(argv[2]).c_str());
            return 0;
        }
        if (cmd == "age-shift" && argc == 6) {
            const json a = snapshot_from_file(argv[2]), b = snapshot_from_file(argv[3]);
            const uint64_t lo = arg(4), hi = arg(5);
            const long aggregations = b.at("nr_aggregations").get<long>() - a.at("nr_aggregations").get<long>();
            std::vector<long> shifts;
            for (int i = 0; i < 256; ++i) {
                const uint64_t addr = lo + (hi - lo) * (2 * i + 1) / 512;
                const long x = age_at(a, addr), y = age_at(b, addr);
                if (x >= 0 && y >= 0) shifts.push_back(y - x);
            }
            if (shifts.empty()) throw std::runtime_error("no region covers the range in both snapshots");
            std::sort(shifts.begin(), shifts.end());
            auto within = [&](long tolerance) {
                const long n = std::count_if(shifts.begin(), shifts.end(), [&](long d) {
                    return d >= aggregations - tolerance && d <= aggregations + tolerance;
                });
                return double(n) / double(shifts.size());
            };
            auto mib = [](const json& snap) {
                uint64_t sum = 0;
                for (const json& t : snap.at("targets"))
                    for (const json& r : t.at("regions")) sum += r.at("end").get<uint64_t>() - r.at("start").get<uint64_t>();
                return sum >> 20;
            };
            std::printf("aggregations=%ld median_shift=%ld exactly=%.2f within_one=%.2f within_two=%.2f "
                        "monitored_mib=%llu/%llu\n",
                        aggregations, shifts[shifts.size() / 2], within(0), within(1), within(2), (unsigned long long)mib(a),
                        (unsigned long long)mib(b));
            return 0;
        }
        if (cmd == "regions" && argc == 4) {  // one line per region overlapping the range
            const json snap = snapshot_from_stdin();
            for (const json& t : snap.at("targets"))
                for (const json& r : t.at("regions"))
                    if (r.at("end").get<uint64_t>() > arg(2) && r.at("start").get<uint64_t>() < arg(3))
                        std::printf("%#llx-%#llx age=%u last_nr=%u\n", (unsigned long long)r.at("start").get<uint64_t>(),
                                    (unsigned long long)r.at("end").get<uint64_t>(), r.at("age").get<unsigned>(),
                                    r.at("last_nr_accesses").get<unsigned>());
            return 0;
        }
        std::fprintf(stderr, "usage: rk-probe hot-cold HS HE CS CE | ages START END | regions START END < busctl-json\n"
                             "       rk-probe age-shift BEFORE.json AFTER.json START END | label NAME\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rk-probe: %s\n", e.what());
        return 1;
    }
}
