// `history CONTEXT`: the context's working set and idle p90 over the last day
// (or what damond kept), as terminal sparklines with its pauses marked, and
// what it was just before its last pause — the question an operator asks
// first about an app sent to the background.
#include <time.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "history_plot.hpp"

namespace damonctl {

using nlohmann::json;

namespace {

using Point = HistoryPoint;

// Local time, to the second when points are less than a minute apart.
std::string clock_time(uint64_t unix_us, uint64_t step_us) {
    const time_t t = time_t(unix_us / 1000000);
    tm local{};
    localtime_r(&t, &local);
    char buf[32];
    strftime(buf, sizeof buf, step_us < 60000000 ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &local);
    return buf;
}

// One character per column: the column's largest value on eight levels of
// the row's largest; a blank where damond kept nothing.
std::string sparkline(const std::vector<std::vector<const Point*>>& columns, uint64_t Point::*field) {
    static const char* const kLevels[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    uint64_t top = 0;
    for (const auto& c : columns)
        for (const Point* p : c) top = std::max(top, p->*field);
    std::string out;
    for (const auto& c : columns) {
        if (c.empty()) {
            out += ' ';
            continue;
        }
        uint64_t v = 0;
        for (const Point* p : c) v = std::max(v, p->*field);
        const size_t level = top ? std::min<size_t>(7, size_t(double(v) / double(top) * 7.999)) : 0;
        out += kLevels[level];
    }
    return out;
}

}  // namespace

int cmd_history(Args& a) {
    const std::string width_text = a.option("columns", "60");
    const std::string svg_file = a.option("svg");
    a.expect(1, "damonctl history CONTEXT [--columns N] [--svg FILE] [--json]");
    size_t columns = 0;
    try {
        columns = std::stoul(width_text);
    } catch (const std::exception&) {
    }
    if (columns < 1 || columns > 1000) throw Failure(kUsage, "--columns: must be a number from 1 to 1000");
    Damond d;
    auto ctx = d.context(a.words[0]);
    const auto reply = call([&] { return ctx->History(); });
    const uint64_t step_us = std::get<0>(reply);
    std::vector<Point> points;
    for (const auto& p : std::get<1>(reply)) points.push_back({p.get<0>(), p.get<1>(), p.get<2>(), p.get<3>()});
    if (!svg_file.empty()) {
        std::ofstream out(svg_file);
        out << history_svg("damond context " + a.words[0] + ": working set and idle p90", step_us, points);
        if (!out) throw Failure(kFailed, svg_file + ": cannot write it");
    }
    if (a.json) {
        json out = {{"context", a.words[0]}, {"step_us", step_us}, {"points", json::array()}};
        for (const Point& p : points)
            out["points"].push_back({{"unix_us", p.unix_us},
                                     {"working_set_bytes", p.working_set},
                                     {"idle_p90_us", p.idle_p90},
                                     {"paused", p.paused}});
        std::cout << out.dump(2) << '\n';
        return kOk;
    }
    std::cout << a.words[0] << ": ";
    if (points.empty()) {
        std::cout << "no history yet (a point every " << human_duration_us(step_us) << ")\n";
        return kOk;
    }
    const uint64_t first = points.front().unix_us, last = points.back().unix_us;
    std::cout << points.size() << " point(s), one every " << human_duration_us(step_us) << ", "
              << clock_time(first, step_us) << " to " << clock_time(last, step_us) << '\n';
    // Columns of equal time; each takes the points that fall in it.
    const size_t n = std::min<size_t>(columns, size_t((last - first) / std::max<uint64_t>(step_us, 1)) + 1);
    std::vector<std::vector<const Point*>> cols(n);
    const uint64_t span = std::max<uint64_t>(last - first, 1);
    for (const Point& p : points)
        cols[std::min(n - 1, size_t(double(p.unix_us - first) / double(span) * double(n)))].push_back(&p);
    uint64_t ws_top = 0, idle_top = 0;
    for (const Point& p : points) {
        ws_top = std::max(ws_top, p.working_set);
        idle_top = std::max(idle_top, p.idle_p90);
    }
    std::string paused_row;
    for (const auto& c : cols) {
        bool paused = false;
        for (const Point* p : c) paused = paused || p->paused;
        paused_row += c.empty() ? " " : paused ? "‖" : "·";
    }
    std::cout << "  working set  " << sparkline(cols, &Point::working_set) << "  max " << human_size(ws_top) << ", now "
              << human_size(points.back().working_set) << '\n';
    std::cout << "  idle p90     " << sparkline(cols, &Point::idle_p90) << "  max " << human_duration_us(idle_top)
              << ", now " << human_duration_us(points.back().idle_p90) << '\n';
    std::cout << "  paused       " << paused_row << "  (‖ paused)\n";
    // The last point before the latest run of paused points.
    if (points.back().paused) {
        size_t i = points.size();
        while (i > 0 && points[i - 1].paused) --i;
        if (i > 0)
            std::cout << "paused since about " << clock_time(points[i].unix_us, step_us) << "; before: working set "
                      << human_size(points[i - 1].working_set) << ", idle p90 "
                      << human_duration_us(points[i - 1].idle_p90) << " (" << clock_time(points[i - 1].unix_us, step_us)
                      << ")\n";
        else
            std::cout << "paused all along\n";
    }
    return kOk;
}

}  // namespace damonctl
