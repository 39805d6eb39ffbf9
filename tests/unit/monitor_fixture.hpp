// An in-process monitor on a virtual clock: tests move time by hand.
#pragma once

#include "core/clock.hpp"
#include "monitor/executor.hpp"
#include "monitor/inprocess_monitor.hpp"
#include "spec/spec_json.hpp"

namespace damond::testing {

inline const char* kDemoSpec = R"({
  "ops": "synthetic", "seed": 11,
  "intervals": {"sample_us": 1000, "aggr_us": 20000, "update_us": 1000000},
  "nr_regions": {"min": 10, "max": 100},
  "targets": [{"regions": [{"start": 0, "end": 16777216}],
               "workload": {"seed": 2, "sets": [{"start": 0, "end": 2097152, "access_bp": 8000}]}}]
})";

struct VirtualTime {
    ManualClock clock;
    InlineExecutor executor{clock};
    NoSystemMetrics metrics;

    Scheduler& scheduler() { return executor.scheduler(); }
    // Moves the clock forward in 100 us steps, running whatever falls due.
    void advance(uint64_t us) {
        for (uint64_t t = 0; t < us; t += 100) {
            clock.advance(100);
            executor.scheduler().run_due(clock.now_us());
        }
    }
};

}  // namespace damond::testing
