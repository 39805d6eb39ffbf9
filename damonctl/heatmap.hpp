// Access frequency (or idle time) over address × time from a series of
// snapshots, drawn for a terminal or as SVG. Rows are equal shares of the
// memory that exists: the holes between a target's monitored ranges and,
// where the process's maps are known, its unmapped holes are folded away,
// so a 64 MiB workload inside 785 MiB of monitored address space gets the
// rows and a hot and a cold area show as separate bands. Without maps
// (physical memory, another user's process), the map zooms to the accessed
// part when it is under half of the space.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "process_memory.hpp"

namespace damonctl {

struct HeatRegion {
    uint64_t start, end;
    double rate;       // accesses per sample in the last aggregation, 0..1
    uint64_t idle_us;  // 0 when accessed, else its age (how long it has been idle)
};

enum class HeatMode { access, idle };

struct HeatOptions {
    size_t rows = 20;
    HeatMode mode = HeatMode::access;
    // mapped[t]: the memory target t's process has (process_memory()),
    // sorted; absent or empty when unknown (no pid, or its maps are not the
    // caller's to read).
    std::vector<AddrRanges> mapped;
    std::optional<std::pair<uint64_t, uint64_t>> range;  // --range: only these addresses
    bool zoom = true;                                    // off with --range all
    std::optional<size_t> target;                        // --target: only this one
};

struct Heatmap {
    struct Target {
        size_t index = 0;   // in the snapshot
        AddrRanges ranges;  // the folded address space, in order
        AddrRanges rows;    // each row's first and last address + 1
        // rows where one of `ranges` starts (a mapping or monitored range edge)
        std::vector<size_t> edges;
        uint64_t total_bytes = 0;  // before any zoom
        bool zoomed = false;       // to the accessed part
        // levels[row][column]: 0..9. Access mode: the size-weighted access
        // rate of the row's bytes, in tenths (9 for 90 % and more). Idle
        // mode: 9 accessed now down to 0 idle for 10 min or more.
        std::vector<std::vector<int>> levels;
    };
    HeatMode mode = HeatMode::access;
    std::vector<uint64_t> column_us;  // each column's time since the first snapshot
    std::vector<Target> targets;
};

// snapshots[column] = targets[t] = regions.
Heatmap build_heatmap(const std::vector<std::vector<std::vector<HeatRegion>>>& snapshots,
                      const std::vector<uint64_t>& times_us, const HeatOptions& options);
// The regions of a Snapshot() JSON, rates from last_nr_accesses.
std::vector<std::vector<HeatRegion>> heat_regions(const nlohmann::json& snapshot);
// "START-END" in hex (0x...) or decimal; nullopt for "all".
std::optional<std::pair<uint64_t, uint64_t>> parse_range(const std::string& text);

// The idle-mode level of an idle time, and what each level means.
int idle_level(uint64_t idle_us);
std::string level_label(HeatMode mode, int level);

struct TerminalStyle {
    enum { none, c256, truecolor } colour = none;
    size_t cell_width = 1;  // characters per column
};
std::string render_terminal(const Heatmap& map, const TerminalStyle& style);

// SVG geometry, also in heatmap_json so tests can find the cells.
struct SvgLayout {
    int left = 130, top = 56, cell_width = 12, cell_height = 12, gap = 56;
};
SvgLayout svg_layout(const Heatmap& map);
std::string render_svg(const Heatmap& map, const std::string& title);
nlohmann::json heatmap_json(const Heatmap& map);
// The colour of a level, as SVG and the terminal draw it (0xRRGGBB).
uint32_t level_colour(int level);

}  // namespace damonctl
