// The kernel's own DAMON modules (damon_stat, damon_reclaim, damon_lru_sort)
// run exclusively: while one does, every sysfs "on" fails with EBUSY. Only
// when the config says so does damond turn them off, and back on when it
// hands DAMON back (a stop without a state directory, or Release()). A stop
// that leaves damond's kdamonds running for the next start leaves the
// modules off too, recorded, so that the run which releases DAMON later
// still turns them back on.
#pragma once

#include <string>
#include <vector>

#include "kernel/sysfs_tree.hpp"

namespace damond {

class DamonModulesTurnedOff {
public:
    // `modules` is the tree holding <module>/parameters/enabled (/sys/module).
    // `record`: the file of modules an earlier run left off ("" for none);
    // those still off are owed back by this run.
    explicit DamonModulesTurnedOff(SysfsTree& modules, std::string record = "");
    // Turns every module owed back on, unless keep_off() was called.
    ~DamonModulesTurnedOff();
    DamonModulesTurnedOff(const DamonModulesTurnedOff&) = delete;
    DamonModulesTurnedOff& operator=(const DamonModulesTurnedOff&) = delete;

    // Logs, and carries on, when the module cannot be switched.
    void turn_off(const std::string& module);
    // For a stop that leaves damond's kdamonds running: the modules could
    // not run beside them; they stay off and are recorded.
    void keep_off();
    const std::vector<std::string>& owed() const { return off_; }

private:
    void save_record() const;

    SysfsTree& modules_;
    std::string record_;
    std::vector<std::string> off_;
    bool keep_off_ = false;
};

}  // namespace damond
