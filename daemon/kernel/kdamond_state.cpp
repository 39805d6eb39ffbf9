#include "kernel/kdamond_state.hpp"

namespace damond {

const char* to_string(KdamondCommand command) {
    switch (command) {
    case KdamondCommand::On: return "on";
    case KdamondCommand::Off: return "off";
    case KdamondCommand::Commit: return "commit";
    case KdamondCommand::UpdateSchemesStats: return "update_schemes_stats";
    case KdamondCommand::UpdateSchemesTriedRegions: return "update_schemes_tried_regions";
    case KdamondCommand::UpdateTunedIntervals: return "update_tuned_intervals";
    case KdamondCommand::UpdateSchemesEffectiveQuotas: return "update_schemes_effective_quotas";
    }
    return "?";
}

std::string kdamond_state_path(uint32_t k) { return "kdamonds/" + std::to_string(k) + "/state"; }

bool kdamond_dir_running(const SysfsTree& tree, const std::string& kdamond_dir) {
    return read_or(tree, kdamond_dir + "/state", "off") == to_string(KdamondCommand::On);
}

bool kdamond_running(const SysfsTree& tree, uint32_t k) {
    return kdamond_dir_running(tree, "kdamonds/" + std::to_string(k));
}

}  // namespace damond
