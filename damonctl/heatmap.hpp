// Access frequency over address × time from a series of snapshots, with
// the holes between a target's address ranges folded away as damo's
// heatmap does; drawn for a terminal (colour and digits) or as SVG.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace damonctl {

struct HeatRegion {
    uint64_t start, end;
    double rate;  // accesses per sample in the last aggregation, 0..1
};

struct Heatmap {
    struct Target {
        std::vector<std::pair<uint64_t, uint64_t>> ranges;  // the folded address space, in order
        std::vector<std::pair<uint64_t, uint64_t>> rows;    // each row's first and last address + 1
        // levels[row][column]: 0..9, the size-weighted access rate of the
        // row's bytes in that column, in tenths (9 for 90 % and more).
        std::vector<std::vector<int>> levels;
    };
    std::vector<uint64_t> column_us;  // each column's time since the first snapshot
    std::vector<Target> targets;
};

// snapshots[column] = targets[t] = regions. `rows` address rows per target.
Heatmap build_heatmap(const std::vector<std::vector<std::vector<HeatRegion>>>& snapshots,
                      const std::vector<uint64_t>& times_us, size_t rows);
// The regions of a Snapshot() JSON, rates from last_nr_accesses.
std::vector<std::vector<HeatRegion>> heat_regions(const nlohmann::json& snapshot);

std::string render_terminal(const Heatmap& map, bool colour);
std::string render_svg(const Heatmap& map, const std::string& title);
nlohmann::json heatmap_json(const Heatmap& map);
// The colour of a level, as SVG and the terminal draw it (0xRRGGBB).
uint32_t level_colour(int level);

}  // namespace damonctl
