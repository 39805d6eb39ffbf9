// What one snapshot says about a context's memory, as damo's `report
// access` says it: working set, idle time and access rate at size
// percentiles, memory by how long it has been idle, the hottest and coldest
// regions, and what each DAMOS scheme applied. Pure: a snapshot in, figures
// out, so tests compute nothing twice.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace damonctl {

struct AccessReport {
    struct Region {
        uint64_t start, end;
        double rate;       // share of samples that saw an access, last aggregation
        uint64_t age_us;   // how long its access pattern has held
        uint64_t idle_us;  // 0 when accessed, else age_us
    };
    struct Bucket {
        std::string label;  // "accessed", "< 1 s", "1 s - 10 s", ...
        uint64_t bytes = 0;
        uint64_t at_least_bytes = 0;  // idle at least as long as this bucket's lower edge
    };
    struct Scheme {
        std::string action;
        uint64_t nr_tried, sz_tried, nr_applied, sz_applied, qt_exceeds;
    };
    uint64_t sample_us = 0, aggr_us = 0, nr_aggregations = 0;
    size_t nr_regions = 0;
    uint64_t total_bytes = 0, working_set_bytes = 0;
    // At size percentiles 0, 10, 25, 50, 75, 90, 99, 100 (by the bytes
    // sorted from least to most): the idle time, and the access rate.
    std::vector<int> percentiles;
    std::vector<uint64_t> idle_us;
    std::vector<double> rate;
    std::vector<Bucket> idle_histogram;
    std::vector<Region> hottest, coldest;  // five each at most
    std::vector<Scheme> schemes;
};

AccessReport access_report(const nlohmann::json& snapshot, const std::vector<std::string>& scheme_actions);
nlohmann::json report_json(const AccessReport& r);
std::string report_text(const std::string& context, const AccessReport& r);

}  // namespace damonctl
