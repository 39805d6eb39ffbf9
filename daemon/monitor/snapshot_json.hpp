#pragma once

#include <nlohmann/json.hpp>

#include "monitor/monitor.hpp"

namespace damond {

// {"nr_aggregations", "nr_samples", "targets": [{"regions": [{start, end, nr_accesses, last_nr_accesses, age}]}]}
nlohmann::json snapshot_to_json(const MonitorSnapshot& snap);

}  // namespace damond
