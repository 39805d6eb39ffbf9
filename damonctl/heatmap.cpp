#include "heatmap.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "format.hpp"
#include "svg.hpp"

namespace damonctl {

using nlohmann::json;

std::vector<std::vector<HeatRegion>> heat_regions(const json& snap) {
    const json iv = snap.value("intervals", json::object());
    const uint64_t sample_us = std::max<uint64_t>(1, iv.value("sample_us", uint64_t(1)));
    const uint64_t aggr_us = iv.value("aggr_us", uint64_t(1));
    const double max_samples = std::max<double>(1.0, double(aggr_us / sample_us));
    std::vector<std::vector<HeatRegion>> out;
    for (const json& t : snap.value("targets", json::array())) {
        std::vector<HeatRegion> regions;
        for (const json& r : t.value("regions", json::array())) {
            const double acc = r.value("last_nr_accesses", r.value("nr_accesses", 0u));
            const uint64_t idle = acc > 0 ? 0 : r.value("age", uint64_t(0)) * aggr_us;
            regions.push_back({r["start"], r["end"], std::min(1.0, acc / max_samples), idle});
        }
        out.push_back(std::move(regions));
    }
    return out;
}

std::optional<std::pair<uint64_t, uint64_t>> parse_range(const std::string& text) {
    if (text == "all") return std::nullopt;
    const size_t dash = text.find('-');
    try {
        if (dash != std::string::npos) {
            size_t used = 0;
            const std::string a = text.substr(0, dash), b = text.substr(dash + 1);
            const uint64_t start = std::stoull(a, &used, 0);
            if (used == a.size()) {
                const uint64_t end = std::stoull(b, &used, 0);
                if (used == b.size() && end > start) return std::make_pair(start, end);
            }
        }
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("--range: '" + text +
                                "' must be START-END (addresses, 0x for hex, END above START) or all");
}

namespace {

const uint64_t kIdleEdgesUs[9] = {1000000,  2000000,   5000000,   10000000, 30000000,
                                  60000000, 120000000, 300000000, 600000000};

// Intersection of two sorted lists of disjoint ranges.
AddrRanges intersect(const AddrRanges& a, const AddrRanges& b) {
    AddrRanges out;
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const uint64_t lo = std::max(a[i].first, b[j].first), hi = std::min(a[i].second, b[j].second);
        if (hi > lo) out.emplace_back(lo, hi);
        (a[i].second < b[j].second ? i : j)++;
    }
    return out;
}

// Sorted and joined where they overlap, or also where they touch
// (`touching`): regions that meet are one range, mappings that meet stay two.
AddrRanges merged(AddrRanges all, bool touching = true) {
    std::sort(all.begin(), all.end());
    AddrRanges out;
    for (const auto& r : all) {
        if (!out.empty() && (r.first < out.back().second || (touching && r.first == out.back().second)))
            out.back().second = std::max(out.back().second, r.second);
        else
            out.push_back(r);
    }
    return out;
}

// A folded address space: offsets count only the bytes of its ranges.
// Binary searches, as a process's resident memory can be thousands of
// ranges and every region of every column is placed.
class Folded {
public:
    explicit Folded(const AddrRanges& space) : space_(space) {
        uint64_t below = 0;
        for (const auto& r : space_) {
            below_.push_back(below);
            below += r.second - r.first;
        }
        total_ = below;
    }
    uint64_t total() const { return total_; }
    // The bytes of the space below `address`.
    uint64_t offset(uint64_t address) const {
        auto it = std::upper_bound(space_.begin(), space_.end(), address,
                                   [](uint64_t a, const auto& r) { return a < r.first; });
        if (it == space_.begin()) return 0;
        const size_t i = size_t(it - space_.begin()) - 1;
        return below_[i] + std::min(address, space_[i].second) - space_[i].first;
    }
    uint64_t address(uint64_t offset) const {
        if (space_.empty()) return 0;
        if (offset >= total_) return space_.back().second;
        const size_t i = size_t(std::upper_bound(below_.begin(), below_.end(), offset) - below_.begin()) - 1;
        return space_[i].first + (offset - below_[i]);
    }

private:
    const AddrRanges& space_;
    std::vector<uint64_t> below_;
    uint64_t total_ = 0;
};

// The part of `space` between folded offsets lo and hi.
AddrRanges slice(const AddrRanges& space, uint64_t lo, uint64_t hi) {
    const Folded f(space);
    return intersect(space, {{f.address(lo), f.address(hi - 1) + 1}});
}

uint64_t span_of(const AddrRanges& space) {
    uint64_t s = 0;
    for (const auto& r : space) s += r.second - r.first;
    return s;
}

}  // namespace

int idle_level(uint64_t idle_us) {
    int level = 9;
    for (uint64_t edge : kIdleEdgesUs)
        if (idle_us >= edge) --level;
    return level;
}

std::string level_label(HeatMode mode, int level) {
    if (mode == HeatMode::access) return level >= 9 ? "≥90 %" : std::to_string(level * 10) + " %";
    if (level >= 9) return "accessed";
    return "idle ≥" + round_duration_us(kIdleEdgesUs[8 - level]);
}

Heatmap build_heatmap(const std::vector<std::vector<std::vector<HeatRegion>>>& snapshots,
                      const std::vector<uint64_t>& times_us, const HeatOptions& opt) {
    Heatmap map;
    map.mode = opt.mode;
    map.column_us = times_us;
    size_t nr_targets = 0;
    for (const auto& s : snapshots) nr_targets = std::max(nr_targets, s.size());
    for (size_t t = 0; t < nr_targets; ++t) {
        if (opt.target && *opt.target != t) continue;
        Heatmap::Target target;
        target.index = t;
        // What every snapshot covered, less what is not mapped.
        AddrRanges all;
        for (const auto& s : snapshots)
            if (t < s.size())
                for (const HeatRegion& r : s[t]) all.emplace_back(r.start, r.end);
        AddrRanges space = merged(all);
        if (t < opt.mapped.size() && !opt.mapped[t].empty()) space = intersect(space, merged(opt.mapped[t], false));
        if (opt.range) space = intersect(space, {*opt.range});
        target.total_bytes = span_of(space);
        const bool maps_known = t < opt.mapped.size() && !opt.mapped[t].empty();
        if (!opt.range && opt.zoom && !maps_known) {
            // Zoom to the accessed part when it is under half: a few MiB in
            // a machine's worth of physical memory. Not with a process's
            // maps: then every row is memory the process has, and what it
            // leaves alone is half the story.
            uint64_t lo = UINT64_MAX, hi = 0;
            const Folded whole(space);
            for (const auto& s : snapshots)
                if (t < s.size())
                    for (const HeatRegion& r : s[t])
                        if (r.rate > 0) {
                            const uint64_t a = whole.offset(r.start), b = whole.offset(r.end);
                            if (b > a) lo = std::min(lo, a), hi = std::max(hi, b);
                        }
            if (hi > lo && (hi - lo) * 2 < target.total_bytes) {
                const uint64_t margin = (hi - lo) / 16;
                space = slice(space, lo > margin ? lo - margin : 0, std::min(target.total_bytes, hi + margin));
                target.zoomed = true;
            }
        }
        target.ranges = space;
        const Folded f(space);
        const uint64_t span = f.total();
        const size_t nr_rows = span == 0 ? 0 : std::min<uint64_t>(opt.rows, span);
        std::vector<uint64_t> bounds;  // folded offsets of the rows' edges
        for (size_t i = 0; i <= nr_rows; ++i) bounds.push_back(uint64_t((__uint128_t)span * i / nr_rows));
        for (size_t i = 0; i < nr_rows; ++i)
            target.rows.emplace_back(f.address(bounds[i]), f.address(bounds[i + 1] - 1) + 1);
        // A row holds a range's start when that start's offset is inside it.
        for (size_t k = 1; k < space.size(); ++k) {
            const uint64_t at = f.offset(space[k].first);
            const size_t row = size_t(std::upper_bound(bounds.begin(), bounds.end(), at) - bounds.begin()) - 1;
            if (row < nr_rows && (target.edges.empty() || target.edges.back() != row)) target.edges.push_back(row);
        }
        target.levels.assign(nr_rows, std::vector<int>(snapshots.size(), 0));
        for (size_t c = 0; c < snapshots.size(); ++c) {
            if (t >= snapshots[c].size()) continue;
            std::vector<double> weighted(nr_rows, 0.0);
            for (const HeatRegion& r : snapshots[c][t]) {
                const uint64_t a = f.offset(r.start), b = f.offset(r.end);
                if (b <= a) continue;
                const double value = opt.mode == HeatMode::access ? r.rate : double(idle_level(r.idle_us));
                size_t i = size_t(std::upper_bound(bounds.begin(), bounds.end(), a) - bounds.begin()) - 1;
                for (; i < nr_rows && bounds[i] < b; ++i) {
                    const uint64_t lo = std::max(a, bounds[i]), hi = std::min(b, bounds[i + 1]);
                    if (hi > lo) weighted[i] += value * double(hi - lo);
                }
            }
            for (size_t i = 0; i < nr_rows; ++i) {
                const double mean = weighted[i] / double(bounds[i + 1] - bounds[i]);
                target.levels[i][c] = std::min(9, int(opt.mode == HeatMode::access ? mean * 10.0 + 1e-9 : mean + 1e-9));
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

// xterm's 256-colour cube index nearest to an RGB colour.
int xterm256(uint32_t rgb) {
    auto level = [](uint32_t v) { return v < 48 ? 0 : v < 115 ? 1 : int((v - 35) / 40); };
    return 16 + 36 * level(rgb >> 16) + 6 * level((rgb >> 8) & 0xff) + level(rgb & 0xff);
}

std::string what_it_shows(HeatMode mode) {
    return mode == HeatMode::access ? "access rate (share of samples that saw an access)"
                                    : "idle time (how long since the region was last accessed)";
}

std::string zoom_note(const Heatmap::Target& t) {
    std::string s = human_size(span_of(t.ranges)) + " in " + std::to_string(t.rows.size()) + " rows of " +
                    human_size(t.rows.empty() ? 0 : span_of(t.ranges) / t.rows.size());
    if (t.zoomed) s += "; zoomed to the accessed part of " + human_size(t.total_bytes) + " (--range all shows all)";
    return s;
}

}  // namespace

std::string render_terminal(const Heatmap& map, const TerminalStyle& style) {
    std::string out;
    const size_t cw = std::max<size_t>(1, style.cell_width);
    for (const Heatmap::Target& target : map.targets) {
        out += "target " + std::to_string(target.index) + ":";
        for (size_t i = 0; i < target.ranges.size() && i < 6; ++i)
            out += (i ? " | " : " ") + hex_address(target.ranges[i].first) + "-" + hex_address(target.ranges[i].second);
        if (target.ranges.size() > 6) out += " | ... " + std::to_string(target.ranges.size()) + " ranges";
        out += target.ranges.size() > 1 ? " (holes folded)\n" : "\n";
        out += "  " + zoom_note(target) + "\n";
        for (size_t r = 0; r < target.rows.size(); ++r) {
            const bool edge = std::find(target.edges.begin(), target.edges.end(), r) != target.edges.end();
            out += hex_address(target.rows[r].first) + (edge ? "┤" : " ");
            for (int level : target.levels[r]) {
                const uint32_t c = level_colour(level);
                char esc[64] = "";
                if (style.colour == TerminalStyle::truecolor)
                    std::snprintf(esc, sizeof esc, "\x1b[48;2;%u;%u;%um\x1b[38;2;255;255;255m", c >> 16,
                                  (c >> 8) & 0xff, c & 0xff);
                else if (style.colour == TerminalStyle::c256)
                    std::snprintf(esc, sizeof esc, "\x1b[48;5;%dm\x1b[38;5;15m", xterm256(c));
                out += esc;
                out += std::string(cw, char('0' + level));
                if (style.colour != TerminalStyle::none) out += "\x1b[0m";
            }
            out += "\n";
        }
    }
    if (!map.column_us.empty()) {
        // Time ticks under the columns, at least 8 characters apart.
        const size_t width = map.column_us.size() * cw;
        const uint64_t span = std::max<uint64_t>(1, map.column_us.back());
        const uint64_t step = svg::tick_step(span, double(width), 8);
        std::string ticks(width + 16, ' ');
        size_t next_free = 0;
        for (uint64_t t = 0; t <= span; t += step) {
            const size_t col = size_t(double(t) / double(span) * double(map.column_us.size() - 1) + 0.5) * cw;
            const std::string label = "|" + round_duration_us(t);
            if (col < next_free || col + label.size() > ticks.size()) continue;
            ticks.replace(col, label.size(), label);
            next_free = col + label.size() + 1;
        }
        while (!ticks.empty() && ticks.back() == ' ') ticks.pop_back();
        out += std::string(15, ' ') + ticks + "\n";
        out += "time →  " + std::to_string(map.column_us.size()) + " columns over " +
               human_duration_us(map.column_us.back()) + "; digit = " + what_it_shows(map.mode) + ": ";
        for (int l = 0; l <= 9; l += 3) out += (l ? ", " : "") + std::to_string(l) + " " + level_label(map.mode, l);
        out += "\n";
    }
    return out;
}

SvgLayout svg_layout(const Heatmap& map) {
    SvgLayout l;
    size_t rows = 0;
    for (const auto& t : map.targets) rows = std::max(rows, t.rows.size());
    const size_t columns = std::max<size_t>(1, map.column_us.size());
    l.cell_width = int(std::clamp<size_t>(720 / columns, 3, 24));
    l.cell_height = int(std::clamp<size_t>(480 / std::max<size_t>(rows, 1), 3, 24));
    return l;
}

std::string render_svg(const Heatmap& map, const std::string& title) {
    const SvgLayout l = svg_layout(map);
    const size_t columns = map.column_us.size();
    const int map_width = int(columns) * l.cell_width;
    int height = l.top;
    for (const auto& t : map.targets) height += int(t.rows.size()) * l.cell_height + l.gap;
    const int legend_x = l.left + map_width + 24;
    const int width = std::max(legend_x + 150, 620);
    height = std::max(height, l.top + 10 * 18 + 40);
    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                      std::to_string(height) + "\" shape-rendering=\"crispEdges\">\n";
    out += svg::rect(0, 0, width, height, "#ffffff");
    out += svg::text(10, 18, title, "font-size=\"13\" font-weight=\"bold\"");
    out += svg::text(10, 36, what_it_shows(map.mode) + " by address (rows) over time (columns)");
    int y = l.top;
    for (const auto& target : map.targets) {
        const int rows_h = int(target.rows.size()) * l.cell_height;
        if (map.targets.size() > 1 || target.zoomed)
            out += svg::text(l.left, y - 4, "target " + std::to_string(target.index) + ": " + zoom_note(target),
                             "font-size=\"10\"");
        for (size_t r = 0; r < target.rows.size(); ++r)
            for (size_t c = 0; c < columns; ++c)
                out += svg::rect(l.left + int(c) * l.cell_width, y + int(r) * l.cell_height, l.cell_width,
                                 l.cell_height, svg::colour(level_colour(target.levels[r][c])));
        // Addresses: bold where a mapping (or monitored range) starts, with a
        // line across; plain ones in between, at least 14 px from any other.
        std::vector<int> labelled;
        auto free_at = [&](int ly) {
            for (int o : labelled)
                if (std::abs(o - ly) < 14) return false;
            return true;
        };
        auto label = [&](size_t r, uint64_t address, bool bold) {
            const int ly = y + int(r) * l.cell_height;
            if (!free_at(ly + 9)) return;
            out += svg::text(4, ly + 9, hex_address(address), bold ? "font-weight=\"bold\"" : "");
            labelled.push_back(ly + 9);
        };
        label(0, target.rows.empty() ? 0 : target.rows[0].first, true);
        size_t next_range = 1;
        for (size_t r : target.edges) {
            out += svg::line(l.left - 6, y + int(r) * l.cell_height, l.left + map_width, y + int(r) * l.cell_height,
                             "#ffffff", 1);
            // The first range that starts in this row.
            while (next_range < target.ranges.size() && target.ranges[next_range].first < target.rows[r].first)
                ++next_range;
            if (next_range < target.ranges.size()) label(r, target.ranges[next_range].first, true);
        }
        for (size_t r = 0; r < target.rows.size(); ++r) label(r, target.rows[r].first, false);
        out += svg::text(4, y + rows_h + 10, hex_address(target.rows.empty() ? 0 : target.rows.back().second) + " end",
                         "font-size=\"9\" fill=\"#555555\"");
        // Time ticks in seconds (or whatever unit suits the span).
        if (columns > 0) {
            const uint64_t span = std::max<uint64_t>(1, map.column_us.back());
            const uint64_t step = svg::tick_step(span, map_width, 40);
            for (uint64_t t = 0; t <= span; t += step) {
                const double x =
                    l.left + double(t) / double(span) * double(map_width - l.cell_width) + l.cell_width / 2.0;
                out += svg::line(x, y + rows_h, x, y + rows_h + 5, "#333333");
                out += svg::text(x - 8, y + rows_h + 17, round_duration_us(t), "font-size=\"10\"");
            }
            out += svg::text(l.left + map_width - 40, y + rows_h + 32, "time →", "font-size=\"10\"");
        }
        y += rows_h + l.gap;
    }
    // The colour scale, hottest (or most recent) at the top.
    out += svg::text(legend_x, l.top - 6, map.mode == HeatMode::access ? "access rate" : "idle time",
                     "font-weight=\"bold\"");
    for (int level = 9; level >= 0; --level) {
        const int ly = l.top + (9 - level) * 18;
        out += svg::rect(legend_x, ly, 16, 16, svg::colour(level_colour(level)));
        out += svg::text(legend_x + 22, ly + 12, level_label(map.mode, level));
    }
    out += "</svg>\n";
    return out;
}

json heatmap_json(const Heatmap& map) {
    json targets = json::array();
    const SvgLayout l = svg_layout(map);
    int y = l.top;
    for (const auto& t : map.targets) {
        json ranges = json::array(), rows = json::array();
        for (const auto& r : t.ranges) ranges.push_back({{"start", r.first}, {"end", r.second}});
        for (const auto& r : t.rows) rows.push_back({{"start", r.first}, {"end", r.second}});
        targets.push_back({{"index", t.index},
                           {"ranges", ranges},
                           {"rows", rows},
                           {"edges", t.edges},
                           {"total_bytes", t.total_bytes},
                           {"zoomed", t.zoomed},
                           {"levels", t.levels},
                           {"svg_top", y}});
        y += int(t.rows.size()) * l.cell_height + l.gap;
    }
    return {{"mode", map.mode == HeatMode::access ? "access" : "age"},
            {"column_us", map.column_us},
            {"targets", targets},
            {"svg_layout",
             {{"left", l.left}, {"top", l.top}, {"cell_width", l.cell_width}, {"cell_height", l.cell_height}}}};
}

}  // namespace damonctl
