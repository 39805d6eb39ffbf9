#include "monitor/snapshot_json.hpp"

namespace damond {

namespace {

nlohmann::json regions_json(const std::vector<SnapshotRegion>& regions) {
    nlohmann::json jr = nlohmann::json::array();
    for (const SnapshotRegion& r : regions) {
        jr.push_back({{"start", r.start},
                      {"end", r.end},
                      {"nr_accesses", r.nr_accesses},
                      {"last_nr_accesses", r.last_nr_accesses},
                      {"age", r.age}});
        if (!r.probe_hits.empty()) jr.back()["probe_hits"] = r.probe_hits;
    }
    return jr;
}

}  // namespace

nlohmann::json snapshot_to_json(const MonitorSnapshot& snap) {
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& regions : snap.targets) targets.push_back({{"regions", regions_json(regions)}});
    nlohmann::json schemes = nlohmann::json::array();
    for (const SchemeSnapshot& s : snap.schemes) {
        const DamosStat& c = s.stats.counters;
        schemes.push_back({{"stats",
                            {{"nr_tried", c.nr_tried},
                             {"sz_tried", c.sz_tried},
                             {"nr_applied", c.nr_applied},
                             {"sz_applied", c.sz_applied},
                             {"qt_exceeds", c.qt_exceeds}}},
                           {"effective_bytes", s.stats.effective_quota_bytes},
                           {"active", s.stats.active},
                           {"tried_regions", regions_json(s.tried_regions)}});
    }
    return {{"nr_aggregations", snap.nr_aggregations},
            {"nr_samples", snap.nr_samples},
            {"intervals", {{"sample_us", snap.sample_us}, {"aggr_us", snap.aggr_us}}},
            {"targets", targets},
            {"schemes", schemes}};
}

}  // namespace damond
