// A kdamond's state file: it reads "on" or "off" and takes commands, one
// word each. The words live in one table here (as mm/damon/sysfs.c keeps
// damon_sysfs_cmd_strs); the rest of the kernel side names them by enum.
#pragma once

#include <cstdint>
#include <string>

#include "kernel/sysfs_tree.hpp"

namespace damond {

enum class KdamondCommand {
    On,
    Off,
    Commit,
    UpdateSchemesStats,
    UpdateSchemesTriedRegions,
    UpdateTunedIntervals,
    UpdateSchemesEffectiveQuotas,
};

const char* to_string(KdamondCommand command);

// The path of kdamond `k`'s state file, relative to the admin tree.
std::string kdamond_state_path(uint32_t k);
// True when kdamond `k` reads "on"; false when "off" or unreadable.
bool kdamond_running(const SysfsTree& tree, uint32_t k);
// The same from its directory ("kdamonds/<k>").
bool kdamond_dir_running(const SysfsTree& tree, const std::string& kdamond_dir);

}  // namespace damond
