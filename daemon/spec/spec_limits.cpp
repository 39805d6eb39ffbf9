#include "spec/spec_limits.hpp"

namespace damond {

void check_spec_bytes(size_t text_bytes, const SpecLimits& limits) {
    if (text_bytes > limits.spec_bytes)
        throw LimitError("",
                         std::to_string(text_bytes) + " bytes of JSON, over the limit of " +
                             std::to_string(limits.spec_bytes) + " (limits.spec_bytes)",
                         "limits.spec_bytes");
}

void check_spec_limits(const ContextSpec& spec, const SpecLimits& limits) {
    if (spec.nr_regions.max > limits.regions_per_context)
        throw LimitError("nr_regions.max",
                         std::to_string(spec.nr_regions.max) + " is over the limit of " +
                             std::to_string(limits.regions_per_context) +
                             " regions per context (limits.regions_per_context)",
                         "limits.regions_per_context");
    uint64_t ranges = 0;
    for (const Target& t : spec.targets) ranges += t.regions.size();
    if (ranges > limits.regions_per_context)
        throw LimitError("targets",
                         std::to_string(ranges) + " ranges in all, over the limit of " +
                             std::to_string(limits.regions_per_context) +
                             " regions per context (limits.regions_per_context)",
                         "limits.regions_per_context");
}

}  // namespace damond
