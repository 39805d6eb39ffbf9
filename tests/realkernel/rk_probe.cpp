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
//   rk-probe age-at ADDR
//       the age of the region holding ADDR
//   rk-probe regions START END
//       the regions overlapping the range, one per line
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "bus_label.hpp"

using nlohmann::json;

namespace {

json snapshot_from_stdin() {
    const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    const json reply = json::parse(text);  // {"type": "s", "data": ["<snapshot json>"]}
    return json::parse(reply.at("data").at(0).get<std::string>());
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
        if (cmd == "age-at" && argc == 3) {  // the age of the region holding ADDR
            const json snap = snapshot_from_stdin();
            for (const json& t : snap.at("targets"))
                for (const json& r : t.at("regions"))
                    if (r.at("start").get<uint64_t>() <= arg(2) && arg(2) < r.at("end").get<uint64_t>()) {
                        std::printf("%u\n", r.at("age").get<unsigned>());
                        return 0;
                    }
            std::fprintf(stderr, "rk-probe: no region holds %#llx\n", (unsigned long long)arg(2));
            return 1;
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
        std::fprintf(stderr, "usage: rk-probe hot-cold HS HE CS CE | ages START END | regions START END < busctl-json\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rk-probe: %s\n", e.what());
        return 1;
    }
}
