// A context's history (working set and idle p90 every history interval)
// drawn as SVG: two plots over clock time, the stretches it was paused
// shaded across both, breaks where damond kept nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace damonctl {

struct HistoryPoint {
    uint64_t unix_us, working_set, idle_p90;
    bool paused;
};

struct HistoryLayout {
    int left = 90, top = 64, width = 720, plot_height = 150, gap = 50;
};

// x of a time in the plot; `first`/`last` the points' span.
double history_x(const HistoryLayout& l, uint64_t unix_us, uint64_t first, uint64_t last);
std::string history_svg(const std::string& title, uint64_t step_us, const std::vector<HistoryPoint>& points);

}  // namespace damonctl
