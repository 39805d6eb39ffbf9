#include "monitor/snapshot_json.hpp"

namespace damond {

nlohmann::json snapshot_to_json(const MonitorSnapshot& snap) {
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& regions : snap.targets) {
        nlohmann::json jr = nlohmann::json::array();
        for (const SnapshotRegion& r : regions)
            jr.push_back({{"start", r.start}, {"end", r.end}, {"nr_accesses", r.nr_accesses},
                          {"last_nr_accesses", r.last_nr_accesses}, {"age", r.age}});
        targets.push_back({{"regions", jr}});
    }
    return {{"nr_aggregations", snap.nr_aggregations}, {"nr_samples", snap.nr_samples}, {"targets", targets}};
}

}  // namespace damond
