// Finding an app's processes when the hook gives no pid: by the cgroup its
// rule names (cgroup.procs) or by its executable (/proc/<pid>/exe). Both
// read only; the roots are parameters so tests can use directories of
// their own.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace damond {

// The pids listed in <cgroup_dir>/cgroup.procs, in file order; empty if it
// cannot be read.
std::vector<uint32_t> pids_in_cgroup(const std::string& cgroup_dir);

// The pids whose /proc/<pid>/exe link is `exe` (a deleted binary's
// " (deleted)" suffix ignored), in increasing order.
std::vector<uint32_t> pids_running_exe(const std::string& exe, const std::string& proc_root = "/proc");

// The user a cgroup belongs to, from its path: systemd's user-<uid>.slice
// and user@<uid>.service, Android's uid_<uid>; the innermost counts. 0
// (root) for a cgroup outside every user's, such as system.slice.
uid_t uid_of_cgroup(const std::string& cgroup_dir);

}  // namespace damond
