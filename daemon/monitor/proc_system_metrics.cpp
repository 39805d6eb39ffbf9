#include "monitor/proc_system_metrics.hpp"

#include <fstream>
#include <sstream>

namespace damond {

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::optional<uint64_t> per_10000(std::optional<uint64_t> part, std::optional<uint64_t> total) {
    if (!part || !total || *total == 0) return std::nullopt;
    return *part * 10000 / *total;
}

}  // namespace

std::optional<uint64_t> meminfo_value(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        // Per-node files prefix each line with "Node N ".
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        const auto space = name.rfind(' ');
        if (space != std::string::npos) name = name.substr(space + 1);
        if (name != key) continue;
        std::istringstream value(line.substr(colon + 1));
        uint64_t v = 0;
        if (value >> v) return v;
    }
    return std::nullopt;
}

std::optional<uint64_t> ProcSystemMetrics::free_mem_rate() {
    const std::string meminfo = slurp(root_ + "/proc/meminfo");
    const auto free = meminfo_value(meminfo, "MemFree"), total = meminfo_value(meminfo, "MemTotal");
    if (!free || !total || *total == 0) return std::nullopt;
    return *free * 1000 / *total;
}

uint64_t ProcSystemMetrics::some_mem_psi_total_us() {
    // "some avg10=0.00 avg60=0.00 avg300=0.00 total=12345"
    std::istringstream in(slurp(root_ + "/proc/pressure/memory"));
    std::string word;
    if (!(in >> word) || word != "some") return 0;
    while (in >> word)
        if (word.rfind("total=", 0) == 0) return std::stoull(word.substr(6));
    return 0;
}

std::optional<uint64_t> ProcSystemMetrics::goal_metric(const QuotaGoal& goal) {
    switch (goal.target_metric) {
    case GoalMetric::NodeMemUsedBp:
    case GoalMetric::NodeMemFreeBp: {
        const std::string node = slurp(root_ + "/sys/devices/system/node/node" + std::to_string(goal.nid) + "/meminfo");
        const auto total = meminfo_value(node, "MemTotal"), free = meminfo_value(node, "MemFree");
        if (!total || !free) return std::nullopt;
        const uint64_t part = goal.target_metric == GoalMetric::NodeMemFreeBp ? *free : *total - *free;
        return per_10000(part, total);
    }
    case GoalMetric::ActiveMemBp:
    case GoalMetric::InactiveMemBp: {
        const std::string meminfo = slurp(root_ + "/proc/meminfo");
        const auto active = meminfo_value(meminfo, "Active"), inactive = meminfo_value(meminfo, "Inactive");
        if (!active || !inactive) return std::nullopt;
        return per_10000(goal.target_metric == GoalMetric::ActiveMemBp ? active : inactive, *active + *inactive);
    }
    default: return std::nullopt;
    }
}

}  // namespace damond
