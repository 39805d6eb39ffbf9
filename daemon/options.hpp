// damond's command line.
#pragma once

#include <optional>
#include <string>

#include "monitor/backend.hpp"

namespace damond {

struct Options {
    std::string bus = "system";  // system | session
    std::optional<std::string> config_path;
    std::optional<BackendChoice> backend;  // overrides the config's
    std::string sysfs_root = "/sys/kernel/mm/damon/admin";
    std::string modules_root = "/sys/module";
    std::string cgroup_root = "/sys/fs/cgroup";     // memory by cgroup: the cgroups
    std::string kpagecgroup = "/proc/kpagecgroup";  // and which one each page is charged to
    std::optional<std::string> kernel_release;      // for emulated trees; uname's otherwise
    std::optional<uint32_t> kdamonds;               // the kernel backend's pool; else sized from the config
    std::optional<std::string> state_dir;           // $STATE_DIRECTORY, else /var/lib/damond
    uint32_t state_deadline_ms = 10000;             // a sysfs read or write that takes longer fails the context
    bool help = false;
    bool version = false;
};

// Throws std::invalid_argument with a message for the user.
Options parse_options(int argc, char** argv);
const char* usage_text();

}  // namespace damond
