#include "kernel/damon_stat_stand_in.hpp"

namespace damond {

ContextSpec damon_stat_stand_in(const AddrRange& system_ram, bool kernel_tunes_intervals) {
    ContextSpec spec;
    spec.ops = Ops::Paddr;
    spec.intervals.sample_us = 5000;
    spec.intervals.aggr_us = 100000;
    spec.intervals.update_us = 60000000;
    if (kernel_tunes_intervals) {
        spec.intervals.intervals_goal.access_bp = 400;
        spec.intervals.intervals_goal.aggrs = 3;
        spec.intervals.intervals_goal.min_sample_us = 5000;
        spec.intervals.intervals_goal.max_sample_us = kStandInMaxSampleUs;
    } else {
        // Where the tuner settles on a mostly idle machine, the common case.
        spec.intervals.sample_us = kStandInMaxSampleUs;
        spec.intervals.aggr_us = 20 * kStandInMaxSampleUs;
    }
    spec.nr_regions.min = 10;
    spec.nr_regions.max = 1000;
    Target t;
    t.regions = {system_ram};
    spec.targets = {t};
    return spec;
}

}  // namespace damond
