// The kernel's own DAMON modules (damon_stat, damon_reclaim, damon_lru_sort)
// run exclusively: while one does, every sysfs "on" fails with EBUSY. Only
// when the config says so does damond turn them off, and back on when it goes.
#pragma once

#include <string>
#include <vector>

#include "kernel/sysfs_tree.hpp"

namespace damond {

class DamonModulesTurnedOff {
public:
    // `modules` is the tree holding <module>/parameters/enabled (/sys/module).
    explicit DamonModulesTurnedOff(SysfsTree& modules) : modules_(modules) {}
    ~DamonModulesTurnedOff();
    DamonModulesTurnedOff(const DamonModulesTurnedOff&) = delete;
    DamonModulesTurnedOff& operator=(const DamonModulesTurnedOff&) = delete;

    // Logs, and carries on, when the module cannot be switched.
    void turn_off(const std::string& module);

private:
    SysfsTree& modules_;
    std::vector<std::string> off_;
};

}  // namespace damond
