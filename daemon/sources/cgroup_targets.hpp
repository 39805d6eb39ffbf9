// The cgroups a system-wide context attributes memory to, found in
// cgroupfs: the config's, or by default every service of system.slice and
// every user's slice (user.slice/user-<uid>.slice), at most `max` of them. A
// page charged to a cgroup below one of them (a user's apps, a service's
// sub-cgroups) counts for it: each is known by the inode of its directory
// and of every directory under it, as kpagecgroup names them; a page
// counts once, for the deepest target holding it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace damond {

struct CgroupTargets {
    std::vector<std::string> paths;              // relative to cgroupfs: "/system.slice/cron.service"
    size_t left_out = 0;                         // found beyond `max`
    std::unordered_map<uint64_t, int> by_inode;  // directory inode -> index in paths
    // Index of the target holding that inode, -1 for none.
    int owner_of(uint64_t inode) const;
};

// `root`: cgroupfs (/sys/fs/cgroup). `configured`: paths relative to it,
// empty for the default; a configured path that is not there is skipped
// (a service that is not running has no cgroup).
CgroupTargets find_cgroup_targets(const std::string& root, const std::vector<std::string>& configured, size_t max);

}  // namespace damond
