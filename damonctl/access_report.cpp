#include "access_report.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "format.hpp"

namespace damonctl {

using nlohmann::json;

namespace {

const int kPercentiles[] = {0, 10, 25, 50, 75, 90, 99, 100};

// Idle-time bucket edges: what an operator asks ("untouched for a minute?").
const uint64_t kEdgesUs[] = {1000000, 10000000, 60000000, 600000000, 3600000000};

// The value at each size percentile of `regions` sorted by `key`.
template <typename T, typename Key>
std::vector<T> at_percentiles(std::vector<AccessReport::Region> regions, uint64_t total, Key key) {
    std::stable_sort(regions.begin(), regions.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
    std::vector<T> out;
    for (int p : kPercentiles) {
        // The region holding the byte at p % (the last byte for 100).
        const uint64_t byte = std::min<uint64_t>(total ? total - 1 : 0, uint64_t((__uint128_t)total * p / 100));
        uint64_t below = 0;
        T v{};
        for (const auto& r : regions) {
            v = key(r);
            below += r.end - r.start;
            if (below > byte) break;
        }
        out.push_back(v);
    }
    return out;
}

std::string percent(uint64_t part, uint64_t whole) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%5.1f %%", whole ? 100.0 * double(part) / double(whole) : 0.0);
    return buf;
}

std::string rate_text(double rate) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.0f %%", rate * 100);
    return buf;
}

std::string hex(uint64_t a) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)a);
    return buf;
}

}  // namespace

AccessReport access_report(const json& snap, const std::vector<std::string>& actions) {
    AccessReport r;
    const json iv = snap.value("intervals", json::object());
    r.sample_us = iv.value("sample_us", uint64_t(0));
    r.aggr_us = iv.value("aggr_us", uint64_t(0));
    r.nr_aggregations = snap.value("nr_aggregations", uint64_t(0));
    const double samples = std::max(1.0, double(r.aggr_us / std::max<uint64_t>(1, r.sample_us)));
    std::vector<AccessReport::Region> regions;
    for (const json& t : snap.value("targets", json::array()))
        for (const json& x : t.value("regions", json::array())) {
            AccessReport::Region g;
            g.start = x["start"];
            g.end = x["end"];
            const double acc = x.value("last_nr_accesses", x.value("nr_accesses", 0u));
            g.rate = std::min(1.0, acc / samples);
            g.age_us = x.value("age", uint64_t(0)) * r.aggr_us;
            g.idle_us = acc > 0 ? 0 : g.age_us;
            if (g.end > g.start) regions.push_back(g);
        }
    r.nr_regions = regions.size();
    for (const auto& g : regions) {
        r.total_bytes += g.end - g.start;
        if (g.rate > 0) r.working_set_bytes += g.end - g.start;
    }
    r.percentiles.assign(std::begin(kPercentiles), std::end(kPercentiles));
    r.idle_us = at_percentiles<uint64_t>(regions, r.total_bytes, [](const auto& g) { return g.idle_us; });
    r.rate = at_percentiles<double>(regions, r.total_bytes, [](const auto& g) { return g.rate; });
    r.idle_histogram.push_back({"accessed", 0});
    r.idle_histogram.push_back({"< " + round_duration_us(kEdgesUs[0]), 0});
    for (size_t i = 1; i < std::size(kEdgesUs); ++i)
        r.idle_histogram.push_back({round_duration_us(kEdgesUs[i - 1]) + " - " + round_duration_us(kEdgesUs[i]), 0});
    r.idle_histogram.push_back({">= " + round_duration_us(kEdgesUs[std::size(kEdgesUs) - 1]), 0});
    for (const auto& g : regions) {
        size_t b = 0;
        if (g.rate <= 0) {
            b = 1;
            while (b - 1 < std::size(kEdgesUs) && g.idle_us >= kEdgesUs[b - 1]) ++b;
        }
        r.idle_histogram[b].bytes += g.end - g.start;
    }
    uint64_t longer = 0;
    for (size_t b = r.idle_histogram.size(); b-- > 1;)
        r.idle_histogram[b].at_least_bytes = longer += r.idle_histogram[b].bytes;
    std::vector<AccessReport::Region> by_heat = regions, by_cold = regions;
    std::stable_sort(by_heat.begin(), by_heat.end(), [](const auto& a, const auto& b) {
        return a.rate != b.rate ? a.rate > b.rate : a.age_us > b.age_us;
    });
    for (const auto& g : by_heat)
        if (g.rate > 0 && r.hottest.size() < 5) r.hottest.push_back(g);
    std::stable_sort(by_cold.begin(), by_cold.end(), [](const auto& a, const auto& b) {
        return a.idle_us != b.idle_us ? a.idle_us > b.idle_us : a.end - a.start > b.end - b.start;
    });
    for (const auto& g : by_cold)
        if (g.rate <= 0 && r.coldest.size() < 5) r.coldest.push_back(g);
    size_t i = 0;
    for (const json& s : snap.value("schemes", json::array())) {
        const json st = s.value("stats", json::object());
        r.schemes.push_back({i < actions.size() ? actions[i] : "?", st.value("nr_tried", uint64_t(0)),
                             st.value("sz_tried", uint64_t(0)), st.value("nr_applied", uint64_t(0)),
                             st.value("sz_applied", uint64_t(0)), st.value("qt_exceeds", uint64_t(0))});
        ++i;
    }
    return r;
}

json report_json(const AccessReport& r) {
    auto regions = [](const std::vector<AccessReport::Region>& list) {
        json out = json::array();
        for (const auto& g : list)
            out.push_back({{"start", g.start},
                           {"end", g.end},
                           {"access_rate", g.rate},
                           {"age_us", g.age_us},
                           {"idle_us", g.idle_us}});
        return out;
    };
    json pct = json::array(), hist = json::array(), schemes = json::array();
    for (size_t i = 0; i < r.percentiles.size(); ++i)
        pct.push_back({{"percentile", r.percentiles[i]}, {"idle_us", r.idle_us[i]}, {"access_rate", r.rate[i]}});
    for (const auto& b : r.idle_histogram)
        hist.push_back({{"idle", b.label}, {"bytes", b.bytes}, {"idle_at_least_bytes", b.at_least_bytes}});
    for (const auto& s : r.schemes)
        schemes.push_back({{"action", s.action},
                           {"nr_tried", s.nr_tried},
                           {"sz_tried", s.sz_tried},
                           {"nr_applied", s.nr_applied},
                           {"sz_applied", s.sz_applied},
                           {"qt_exceeds", s.qt_exceeds}});
    return {{"intervals", {{"sample_us", r.sample_us}, {"aggr_us", r.aggr_us}}},
            {"nr_aggregations", r.nr_aggregations},
            {"nr_regions", r.nr_regions},
            {"total_bytes", r.total_bytes},
            {"working_set_bytes", r.working_set_bytes},
            {"by_size", pct},
            {"idle_histogram", hist},
            {"hottest", regions(r.hottest)},
            {"coldest", regions(r.coldest)},
            {"schemes", schemes}};
}

std::string report_text(const std::string& context, const AccessReport& r) {
    std::ostringstream out;
    out << context << ": " << r.nr_regions << " regions, " << human_size(r.total_bytes) << " monitored, "
        << r.nr_aggregations << " aggregations (sample " << human_duration_us(r.sample_us) << ", aggregation "
        << human_duration_us(r.aggr_us) << ")\n";
    out << "working set: " << human_size(r.working_set_bytes) << " (" << percent(r.working_set_bytes, r.total_bytes)
        << ") accessed in the last aggregation\n\n";
    out << "by size (the memory sorted from least to most):\n";
    Table p({"PERCENTILE", "IDLE TIME", "ACCESS RATE"});
    for (size_t i = 0; i < r.percentiles.size(); ++i)
        p.add({"p" + std::to_string(r.percentiles[i]), human_duration_us(r.idle_us[i]), rate_text(r.rate[i])});
    p.print(out, "  ");
    out << "\nmemory by idle time:\n";
    Table h({"IDLE", "SIZE", "SHARE", "", "THIS LONG OR LONGER"});
    for (const auto& b : r.idle_histogram) {
        const size_t bar = r.total_bytes ? size_t(double(b.bytes) / double(r.total_bytes) * 30 + 0.5) : 0;
        std::string bars;
        for (size_t i = 0; i < bar; ++i) bars += "█";
        h.add({b.label, human_size(b.bytes), percent(b.bytes, r.total_bytes), bars.empty() ? "·" : bars,
               b.label == "accessed" ? "" : human_size(b.at_least_bytes)});
    }
    h.print(out, "  ");
    auto regions = [&](const char* title, const std::vector<AccessReport::Region>& list) {
        out << '\n' << title << (list.empty() ? ": none\n" : ":\n");
        if (list.empty()) return;
        Table t({"START", "END", "SIZE", "ACCESS RATE", "AGE", "IDLE"});
        for (const auto& g : list)
            t.add({hex(g.start), hex(g.end), human_size(g.end - g.start), rate_text(g.rate),
                   human_duration_us(g.age_us), human_duration_us(g.idle_us)});
        t.print(out, "  ");
    };
    regions("hottest regions", r.hottest);
    regions("coldest regions", r.coldest);
    out << "\nDAMOS applied" << (r.schemes.empty() ? ": no schemes\n" : ":\n");
    if (!r.schemes.empty()) {
        Table t({"#", "ACTION", "TRIED", "TRIED SIZE", "APPLIED", "APPLIED SIZE", "QUOTA EXCEEDED"});
        for (size_t i = 0; i < r.schemes.size(); ++i) {
            const auto& s = r.schemes[i];
            t.add({std::to_string(i), s.action, std::to_string(s.nr_tried), human_size(s.sz_tried),
                   std::to_string(s.nr_applied), human_size(s.sz_applied), std::to_string(s.qt_exceeds)});
        }
        t.print(out, "  ");
    }
    return out.str();
}

}  // namespace damonctl
