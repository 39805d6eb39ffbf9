#include "history_plot.hpp"

#include <time.h>

#include <algorithm>
#include <functional>

#include "format.hpp"
#include "svg.hpp"

namespace damonctl {

namespace {

constexpr uint32_t kPausedShade = 0xdcdcdc;

std::string clock_label(uint64_t unix_us, bool seconds) {
    const time_t t = time_t(unix_us / 1000000);
    tm local{};
    localtime_r(&t, &local);
    char buf[16];
    strftime(buf, sizeof buf, seconds ? "%H:%M:%S" : "%H:%M", &local);
    return buf;
}

// A round clock step (1 s ... 12 h) that keeps labels 80 px apart.
uint64_t clock_step(uint64_t span_us, double width_px) {
    static const uint64_t steps_s[] = {1,   2,   5,    10,   15,   30,    60,    120,   300,
                                       600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};
    for (uint64_t s : steps_s)
        if (double(s) * 1e6 / double(std::max<uint64_t>(span_us, 1)) * width_px >= 80) return s * 1000000;
    return 86400000000;
}

}  // namespace

double history_x(const HistoryLayout& l, uint64_t t, uint64_t first, uint64_t last) {
    return l.left + (last > first ? double(t - first) / double(last - first) : 0.5) * l.width;
}

std::string history_svg(const std::string& title, uint64_t step_us, const std::vector<HistoryPoint>& points) {
    const HistoryLayout l;
    const int height = l.top + 2 * (l.plot_height + l.gap);
    const int width = l.left + l.width + 30;
    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                      std::to_string(height) + "\">\n";
    out += svg::rect(0, 0, width, height, "#ffffff");
    out += svg::text(10, 18, title, "font-size=\"13\" font-weight=\"bold\"");
    if (points.empty()) {
        out += svg::text(10, 40, "no history yet (a point every " + human_duration_us(step_us) + ")");
        return out + "</svg>\n";
    }
    const uint64_t first = points.front().unix_us, last = points.back().unix_us;
    auto x_of = [&](uint64_t t) { return history_x(l, t, first, last); };
    out += svg::text(
        10, 32, std::to_string(points.size()) + " points, one every " + human_duration_us(step_us) + "; grey: paused",
        "font-size=\"10\"");
    struct Plot {
        const char* name;
        uint64_t HistoryPoint::*field;
        std::function<std::string(uint64_t)> label;
        const char* colour;
    };
    const Plot plots[] = {{"working set", &HistoryPoint::working_set, human_size, "#c03020"},
                          {"idle p90", &HistoryPoint::idle_p90, human_duration_us, "#2050b0"}};
    for (int p = 0; p < 2; ++p) {
        const int y0 = l.top + p * (l.plot_height + l.gap);
        const int y1 = y0 + l.plot_height;
        out += svg::text(l.left, y0 - 6, plots[p].name, "font-weight=\"bold\"");
        // Paused stretches, one rectangle each: from the first paused point
        // of a run to the point after its last.
        for (size_t i = 0; i < points.size();) {
            if (!points[i].paused) {
                ++i;
                continue;
            }
            size_t j = i;
            while (j < points.size() && points[j].paused) ++j;
            const double xa = x_of(points[i].unix_us);
            const double xb = j < points.size() ? x_of(points[j].unix_us) : double(l.left + l.width);
            out += svg::rect(xa, y0, std::max(1.0, xb - xa), l.plot_height, svg::colour(kPausedShade));
            i = j;
        }
        out += svg::rect(l.left, y0, l.width, l.plot_height, "none", "stroke=\"#888888\"");
        uint64_t top = 1;
        for (const auto& pt : points) top = std::max(top, pt.*plots[p].field);
        // Three value labels: 0, half and the top.
        for (int k = 0; k <= 2; ++k) {
            const double y = y1 - double(l.plot_height) * k / 2;
            out += svg::line(l.left - 4, y, l.left, y, "#333333");
            out += svg::text(4, y + 4, k == 0 ? "0" : plots[p].label(top * uint64_t(k) / 2), "font-size=\"10\"");
        }
        // The line, broken where points are missing (damond was not running).
        std::string path;
        for (size_t i = 0; i < points.size(); ++i) {
            const bool gap = i > 0 && points[i].unix_us - points[i - 1].unix_us > step_us * 3 / 2;
            const double x = x_of(points[i].unix_us);
            const double y = y1 - double(points[i].*plots[p].field) / double(top) * l.plot_height;
            char buf[64];
            std::snprintf(buf, sizeof buf, "%s%.1f %.1f ", i == 0 || gap ? "M" : "L", x, y);
            path += buf;
        }
        out += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + plots[p].colour + "\" stroke-width=\"2\"/>\n";
        // Clock ticks under each plot.
        const uint64_t step = clock_step(last - first, l.width);
        for (uint64_t t = (first + step - 1) / step * step; t <= last; t += step) {
            const double x = x_of(t);
            out += svg::line(x, y1, x, y1 + 5, "#333333");
            out += svg::text(x - 20, y1 + 17, clock_label(t, step < 60000000), "font-size=\"10\"");
        }
    }
    return out + "</svg>\n";
}

}  // namespace damonctl
