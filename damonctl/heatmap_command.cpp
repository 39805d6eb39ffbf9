// `heatmap CONTEXT`: snapshots taken while it runs, drawn as a heatmap in
// the terminal and, with --svg, as an SVG file.
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "commands.hpp"
#include "damo_units.hpp"
#include "heatmap.hpp"
#include "heatmap_command.hpp"

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

// The memory each pid target's process has (process_memory.hpp), so what
// it has not fold away; a note on stderr when its maps are not the caller's
// to read.
std::vector<AddrRanges> mapped_ranges(ContextProxy& ctx) {
    std::vector<AddrRanges> out;
    json spec;
    try {
        spec = json::parse(ctx.Spec(), nullptr, false);
    } catch (const sdbus::Error&) {
        return out;  // no spec, no maps: the holes stay, the map still draws
    }
    if (!spec.is_object()) return out;
    for (const json& t : spec.value("targets", json::array())) {
        AddrRanges maps;
        if (t.contains("pid_target") && t["pid_target"].is_number_integer()) {
            const int pid = t["pid_target"];
            maps = process_memory(pid).ranges;
            if (maps.empty())
                std::cerr << "damonctl: /proc/" << pid << "/maps cannot be read: unmapped holes are not folded away\n";
        }
        out.push_back(std::move(maps));
    }
    return out;
}

TerminalStyle terminal_style(bool no_colour, size_t columns) {
    TerminalStyle style;
    if (!isatty(STDOUT_FILENO)) return style;
    const char* colorterm = getenv("COLORTERM");
    if (!no_colour && !getenv("NO_COLOR"))
        style.colour = colorterm && (std::string(colorterm) == "truecolor" || std::string(colorterm) == "24bit")
                           ? TerminalStyle::truecolor
                           : TerminalStyle::c256;
    winsize ws{};
    // The address column takes 15 characters; the cells share the rest.
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 16 && columns > 0)
        style.cell_width = std::max<size_t>(1, (ws.ws_col - 16) / columns);
    return style;
}

}  // namespace

std::vector<std::optional<Heatmap>> take_heatmaps(const std::vector<ContextProxy*>& contexts, const HeatmapRequest& req,
                                                  bool progress, std::vector<nlohmann::json>* last, bool skip_denied) {
    const size_t n = contexts.size();
    std::vector<std::vector<std::vector<std::vector<HeatRegion>>>> snapshots(n);
    std::vector<std::vector<uint64_t>> times(n);
    std::vector<bool> readable(n, true);
    if (last) last->assign(n, nullptr);
    const uint64_t start = monotonic_us();
    uint64_t aggr_us = UINT64_MAX;
    // One snapshot of every context; a context whose regions are not the
    // caller's to read is left out (and says so through nullopt).
    auto take = [&](size_t i) {
        if (!readable[i]) return;
        try {
            json snap = json::parse(contexts[i]->Snapshot());
            if (snapshots[i].empty())
                aggr_us = std::min(aggr_us, snap.value("intervals", json::object()).value("aggr_us", uint64_t(100000)));
            snapshots[i].push_back(heat_regions(snap));
            times[i].push_back(monotonic_us() - start);
            if (last) (*last)[i] = std::move(snap);
        } catch (const sdbus::Error& e) {
            if (e.getName() != "org.freedesktop.DBus.Error.AccessDenied" || !skip_denied) fail_from(e);
            readable[i] = false;
        }
    };
    for (size_t i = 0; i < n; ++i) take(i);
    if (aggr_us == UINT64_MAX) aggr_us = 100000;
    // One column per aggregation at most (the counts change no faster),
    // and no more columns than asked for.
    const uint64_t every_us = req.every_us ? req.every_us : std::max(aggr_us, req.for_us / req.max_columns);
    size_t columns = 1;
    for (uint64_t next = start + every_us; next <= start + req.for_us && columns < req.max_columns;
         next += every_us, ++columns) {
        const uint64_t now = monotonic_us();
        if (next > now) std::this_thread::sleep_for(std::chrono::microseconds(next - now));
        for (size_t i = 0; i < n; ++i) take(i);
        if (progress) std::cerr << "\rsnapshots " << columns + 1 << std::flush;
    }
    if (progress) std::cerr << "\r\x1b[K";
    std::vector<std::optional<Heatmap>> maps;
    for (size_t i = 0; i < n; ++i) {
        if (!readable[i]) {
            maps.emplace_back();
            continue;
        }
        HeatOptions opt = req.options;
        if (opt.mapped.empty()) opt.mapped = mapped_ranges(*contexts[i]);
        maps.emplace_back(build_heatmap(snapshots[i], times[i], opt));
    }
    return maps;
}

HeatmapRequest heatmap_request(Args& a) {
    HeatmapRequest req;
    req.for_us = duration_us("for", a.option("for", "10s"));
    const std::string every_text = a.option("every");
    if (!every_text.empty()) req.every_us = duration_us("every", every_text);
    req.options.rows = count("rows", a.option("rows", "20"));
    req.max_columns = count("columns", a.option("columns", "60"));
    const std::string mode = a.option("mode", "access");
    if (mode == "age")
        req.options.mode = HeatMode::idle;
    else if (mode != "access")
        throw Failure(kUsage, "--mode: '" + mode + "' must be access or age");
    const std::string range = a.option("range");
    if (!range.empty()) {
        try {
            req.options.range = parse_range(range);
        } catch (const std::invalid_argument& e) {
            throw Failure(kUsage, e.what());
        }
        req.options.zoom = false;
    }
    const std::string target = a.option("target");
    if (!target.empty()) {
        if (target.find_first_not_of("0123456789") != std::string::npos || target.size() > 4)
            throw Failure(kUsage, "--target: '" + target + "' must be a target's index (0 for the first)");
        req.options.target = std::stoul(target);
    }
    return req;
}

int cmd_heatmap(Args& a) {
    const HeatmapRequest req = heatmap_request(a);
    const std::string svg_file = a.option("svg");
    const bool no_colour = a.flag("no-color");
    a.expect(1,
             "damonctl heatmap CONTEXT [--for 10s] [--every 200ms] [--rows N] [--columns N] [--mode access|age] "
             "[--range START-END|all] [--target N] [--svg FILE] [--no-color] [--json]");
    const std::string name = a.words[0];
    Damond d;
    auto ctx = d.context(name);
    const Heatmap map = *take_heatmaps({ctx.get()}, req, isatty(STDERR_FILENO) && !a.json).front();
    if (!svg_file.empty()) {
        std::ofstream out(svg_file);
        out << render_svg(map, "damond context " + name);
        if (!out) throw Failure(kFailed, svg_file + ": cannot write it");
    }
    if (a.json)
        std::cout << heatmap_json(map).dump() << '\n';
    else
        std::cout << render_terminal(map, terminal_style(no_colour, map.column_us.size()));
    return kOk;
}

}  // namespace damonctl
