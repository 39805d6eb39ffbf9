// Taking a heatmap: snapshots of one context over time, shared by
// `heatmap` and `report --html`.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "cli.hpp"
#include "heatmap.hpp"

namespace damonctl {

struct HeatmapRequest {
    uint64_t for_us = 10000000;
    uint64_t every_us = 0;  // 0: one aggregation, or for_us / max_columns if longer
    size_t max_columns = 60;
    HeatOptions options;
};

// Takes --for, --every, --rows, --columns, --mode, --range and --target out of `a`.
HeatmapRequest heatmap_request(Args& a);
// Snapshots of every context at once for req.for_us, then each one's map.
// A context whose regions the caller may not read fails it, or with
// `skip_denied` gets nullopt. `last` gets each context's last snapshot.
std::vector<std::optional<Heatmap>> take_heatmaps(const std::vector<ContextProxy*>& contexts, const HeatmapRequest& req,
                                                  bool progress, std::vector<nlohmann::json>* last = nullptr,
                                                  bool skip_denied = false);

}  // namespace damonctl
