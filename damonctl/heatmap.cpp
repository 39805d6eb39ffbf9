#include "heatmap.hpp"

#include <algorithm>
#include <cstdio>

#include "format.hpp"

namespace damonctl {

using nlohmann::json;

std::vector<std::vector<HeatRegion>> heat_regions(const json& snap) {
    const json iv = snap.value("intervals", json::object());
    const uint64_t sample_us = std::max<uint64_t>(1, iv.value("sample_us", uint64_t(1)));
    const double max_samples = std::max<double>(1.0, double(iv.value("aggr_us", uint64_t(1)) / sample_us));
    std::vector<std::vector<HeatRegion>> out;
    for (const json& t : snap.value("targets", json::array())) {
        std::vector<HeatRegion> regions;
        for (const json& r : t.value("regions", json::array())) {
            const double acc = r.value("last_nr_accesses", r.value("nr_accesses", 0u));
            regions.push_back({r["start"], r["end"], std::min(1.0, acc / max_samples)});
        }
        out.push_back(std::move(regions));
    }
    return out;
}

Heatmap build_heatmap(const std::vector<std::vector<std::vector<HeatRegion>>>& snapshots,
                      const std::vector<uint64_t>& times_us, size_t rows) {
    Heatmap map;
    map.column_us = times_us;
    size_t nr_targets = 0;
    for (const auto& s : snapshots) nr_targets = std::max(nr_targets, s.size());
    for (size_t t = 0; t < nr_targets; ++t) {
        Heatmap::Target target;
        // The address space every snapshot covered, holes between left out.
        std::vector<std::pair<uint64_t, uint64_t>> all;
        for (const auto& s : snapshots)
            if (t < s.size())
                for (const HeatRegion& r : s[t]) all.emplace_back(r.start, r.end);
        std::sort(all.begin(), all.end());
        for (const auto& r : all) {
            if (!target.ranges.empty() && r.first <= target.ranges.back().second)
                target.ranges.back().second = std::max(target.ranges.back().second, r.second);
            else
                target.ranges.push_back(r);
        }
        uint64_t span = 0;
        for (const auto& r : target.ranges) span += r.second - r.first;
        const size_t nr_rows = span == 0 ? 0 : std::min<uint64_t>(rows, span);
        // Folded offset -> address.
        auto address_of = [&](uint64_t offset) {
            for (const auto& r : target.ranges) {
                if (offset < r.second - r.first) return r.first + offset;
                offset -= r.second - r.first;
            }
            return target.ranges.empty() ? 0 : target.ranges.back().second;
        };
        auto offset_of = [&](uint64_t address) {
            uint64_t base = 0;
            for (const auto& r : target.ranges) {
                if (address < r.second) return base + (address > r.first ? address - r.first : 0);
                base += r.second - r.first;
            }
            return base;
        };
        std::vector<uint64_t> bounds;  // folded offsets of the rows' edges
        for (size_t i = 0; i <= nr_rows; ++i) bounds.push_back(uint64_t((__uint128_t)span * i / nr_rows));
        for (size_t i = 0; i < nr_rows; ++i)
            target.rows.emplace_back(address_of(bounds[i]), address_of(bounds[i + 1] - 1) + 1);
        target.levels.assign(nr_rows, std::vector<int>(snapshots.size(), 0));
        for (size_t c = 0; c < snapshots.size(); ++c) {
            if (t >= snapshots[c].size()) continue;
            std::vector<double> weighted(nr_rows, 0.0);
            for (const HeatRegion& r : snapshots[c][t]) {
                const uint64_t a = offset_of(r.start), b = offset_of(r.end - 1) + 1;
                // The rows this region's folded span touches.
                size_t i = size_t(std::upper_bound(bounds.begin(), bounds.end(), a) - bounds.begin()) - 1;
                for (; i < nr_rows && bounds[i] < b; ++i) {
                    const uint64_t lo = std::max(a, bounds[i]), hi = std::min(b, bounds[i + 1]);
                    if (hi > lo) weighted[i] += r.rate * double(hi - lo);
                }
            }
            for (size_t i = 0; i < nr_rows; ++i) {
                const double rate = weighted[i] / double(bounds[i + 1] - bounds[i]);
                target.levels[i][c] = std::min(9, int(rate * 10.0 + 1e-9));
            }
        }
        map.targets.push_back(std::move(target));
    }
    return map;
}

uint32_t level_colour(int level) {
    // Dark blue (idle) through green and yellow to red (hot): ten steps far
    // enough apart to be told apart on screen and read back from pixels.
    static const uint32_t ramp[10] = {0x101830, 0x203a78, 0x2060b0, 0x1890a0, 0x20a860,
                                      0x80c030, 0xd0d020, 0xf0a020, 0xf06020, 0xe02020};
    return ramp[std::clamp(level, 0, 9)];
}

namespace {

std::string hex_address(uint64_t a) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%012llx", (unsigned long long)a);
    return buf;
}

}  // namespace

std::string render_terminal(const Heatmap& map, bool colour) {
    std::string out;
    for (size_t t = 0; t < map.targets.size(); ++t) {
        const Heatmap::Target& target = map.targets[t];
        out += "target " + std::to_string(t) + ":";
        for (size_t i = 0; i < target.ranges.size(); ++i)
            out += (i ? " | " : " ") + hex_address(target.ranges[i].first) + "-" + hex_address(target.ranges[i].second);
        out += target.ranges.size() > 1 ? " (holes folded)\n" : "\n";
        for (size_t r = 0; r < target.rows.size(); ++r) {
            out += hex_address(target.rows[r].first) + " ";
            for (int level : target.levels[r]) {
                if (colour) {
                    const uint32_t c = level_colour(level);
                    char esc[64];
                    std::snprintf(esc, sizeof esc, "\x1b[48;2;%u;%u;%um\x1b[38;2;255;255;255m", c >> 16,
                                  (c >> 8) & 0xff, c & 0xff);
                    out += esc;
                }
                out += char('0' + level);
                if (colour) out += "\x1b[0m";
            }
            out += "\n";
        }
    }
    if (!map.column_us.empty())
        out += "time →  " + std::to_string(map.column_us.size()) + " columns over " +
               human_duration_us(map.column_us.back()) + "; digit = access rate in tenths (0 idle, 9 ≥ 90 %)\n";
    return out;
}

std::string render_svg(const Heatmap& map, const std::string& title) {
    constexpr int kCell = 12, kLeft = 150, kTop = 40, kGap = 30;
    size_t columns = map.column_us.size(), height = kTop;
    for (const auto& t : map.targets) height += t.rows.size() * kCell + kGap;
    const size_t width = kLeft + columns * kCell + 20;
    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                      std::to_string(height + 20) + "\" shape-rendering=\"crispEdges\">\n";
    out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    out += "<text x=\"10\" y=\"20\" font-family=\"monospace\" font-size=\"13\">" + title + "</text>\n";
    size_t y = kTop;
    for (size_t t = 0; t < map.targets.size(); ++t) {
        const auto& target = map.targets[t];
        for (size_t r = 0; r < target.rows.size(); ++r) {
            if (r % 4 == 0)
                out += "<text x=\"4\" y=\"" + std::to_string(y + r * kCell + kCell - 2) +
                       "\" font-family=\"monospace\" font-size=\"10\">" + hex_address(target.rows[r].first) +
                       "</text>\n";
            for (size_t c = 0; c < columns; ++c) {
                char fill[8];
                std::snprintf(fill, sizeof fill, "%06x", level_colour(target.levels[r][c]));
                out += "<rect x=\"" + std::to_string(kLeft + c * kCell) + "\" y=\"" + std::to_string(y + r * kCell) +
                       "\" width=\"" + std::to_string(kCell) + "\" height=\"" + std::to_string(kCell) + "\" fill=\"#" +
                       fill + "\"/>\n";
            }
        }
        y += target.rows.size() * kCell + kGap;
    }
    out += "<text x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(height + 5) +
           "\" font-family=\"monospace\" font-size=\"11\">time → (" +
           (map.column_us.empty() ? std::string("0 us") : human_duration_us(map.column_us.back())) + ")</text>\n";
    out += "</svg>\n";
    return out;
}

json heatmap_json(const Heatmap& map) {
    json targets = json::array();
    for (const auto& t : map.targets) {
        json ranges = json::array(), rows = json::array();
        for (const auto& r : t.ranges) ranges.push_back({{"start", r.first}, {"end", r.second}});
        for (const auto& r : t.rows) rows.push_back({{"start", r.first}, {"end", r.second}});
        targets.push_back({{"ranges", ranges}, {"rows", rows}, {"levels", t.levels}});
    }
    return {{"column_us", map.column_us},
            {"targets", targets},
            {"svg_layout", {{"cell", 12}, {"left", 150}, {"top", 40}, {"gap", 30}}}};
}

}  // namespace damonctl
