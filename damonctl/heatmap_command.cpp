// `heatmap CONTEXT`: snapshots taken while it runs, drawn as a heatmap in
// the terminal and, with --svg, as an SVG file.
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "commands.hpp"
#include "damo_units.hpp"
#include "heatmap.hpp"

namespace damonctl {

using nlohmann::json;

namespace {

uint64_t duration_us(const std::string& option, const std::string& text) {
    try {
        return damo::parse_time(json(text), "--" + option, 1000, 1000000000);  // a bare number is seconds
    } catch (const damo::ValueError& e) {
        throw Failure(kUsage, e.what());
    }
}

size_t count(const std::string& option, const std::string& text) {
    try {
        const unsigned long v = std::stoul(text);
        if (v > 0 && v <= 10000) return v;
    } catch (const std::exception&) {
    }
    throw Failure(kUsage, "--" + option + ": '" + text + "' must be a number from 1 to 10000");
}

}  // namespace

int cmd_heatmap(Args& a) {
    const uint64_t for_us = duration_us("for", a.option("for", "10s"));
    const std::string every_text = a.option("every");
    const std::string svg = a.option("svg");
    const size_t rows = count("rows", a.option("rows", "20"));
    const size_t max_columns = count("columns", a.option("columns", "60"));
    const bool no_colour = a.flag("no-color");
    a.expect(1,
             "damonctl heatmap CONTEXT [--for 10s] [--every 200ms] [--rows N] [--columns N] [--svg FILE] "
             "[--no-color] [--json]");
    const std::string name = a.words[0];
    Damond d;
    auto ctx = d.context(name);
    std::vector<std::vector<std::vector<HeatRegion>>> snapshots;
    std::vector<uint64_t> times;
    const uint64_t start = monotonic_us();
    json first = json::parse(call([&] { return ctx->Snapshot(); }));
    const uint64_t aggr_us = first.value("intervals", json::object()).value("aggr_us", uint64_t(100000));
    // One column per aggregation at most (the counts change no faster),
    // and no more columns than asked for.
    const uint64_t every_us =
        every_text.empty() ? std::max(aggr_us, for_us / max_columns) : duration_us("every", every_text);
    const bool progress = isatty(STDERR_FILENO) && !a.json;
    snapshots.push_back(heat_regions(first));
    times.push_back(0);
    for (uint64_t next = start + every_us; next <= start + for_us && snapshots.size() < max_columns; next += every_us) {
        const uint64_t now = monotonic_us();
        if (next > now) std::this_thread::sleep_for(std::chrono::microseconds(next - now));
        snapshots.push_back(heat_regions(json::parse(call([&] { return ctx->Snapshot(); }))));
        times.push_back(monotonic_us() - start);
        if (progress) std::cerr << "\rsnapshots " << snapshots.size() << std::flush;
    }
    if (progress) std::cerr << "\r\x1b[K";
    const Heatmap map = build_heatmap(snapshots, times, rows);
    if (!svg.empty()) {
        std::ofstream out(svg);
        out << render_svg(map, "damond context " + name);
        if (!out) throw Failure(kFailed, svg + ": cannot write it");
    }
    if (a.json)
        std::cout << heatmap_json(map).dump() << '\n';
    else
        std::cout << render_terminal(map, !no_colour && isatty(STDOUT_FILENO));
    return kOk;
}

}  // namespace damonctl
