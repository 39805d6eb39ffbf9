// What the kernel's DAMON sysfs tree offers, found by looking (stat and
// read) only: damo-style trial writes would disturb other users of the tree.
// The kernel version is used only to gate the windows known to be broken.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/kernel_version.hpp"
#include "kernel/sysfs_tree.hpp"
#include "monitor/backend_facts.hpp"

namespace damond {

enum class PauseMode { Native, Watermarks, Checkpoint, Unsupported };
const char* to_string(PauseMode mode);

// A kdamond as found in the tree: the same facts the Manager publishes.
using KdamondInfo = KdamondFact;

struct KernelProbe {
    bool present = false;   // the admin tree exists
    bool writable = false;  // nr_kdamonds can be written (root, not read-only sysfs)
    std::vector<std::string> avail_operations;
    // Files found under some kdamond, by the names damond uses for them
    // (pause, refresh_ms, intervals_goal, core_filters, ...).
    std::set<std::string> features;
    bool features_known = false;  // false while no kdamond directory exists to look into
    std::optional<KernelVersion> version;
    std::vector<KdamondInfo> kdamonds;
    // DAMON modules that run exclusively (every sysfs "on" then fails EBUSY).
    std::vector<std::string> exclusive_modules_running;
    PauseMode pause_mode = PauseMode::Unsupported;
    std::string pause_mode_reason;

    bool any_running() const;
};

// `modules` is the tree holding the DAMON modules' parameters (by default
// /sys/module); `owned` lists the kdamond indices damond has recorded as its own.
KernelProbe probe_kernel(const SysfsTree& admin, const SysfsTree& modules, const std::string& kernel_release,
                         const std::set<uint32_t>& owned);

// The config's kernel.pause_mode: "auto" keeps the probe's choice;
// "checkpoint" is always possible; "watermarks" only where a parked kdamond
// resumes (the probe chose native or watermarks); "native" only where the
// pause file is. Returns "" or why the kernel cannot do it.
std::string force_pause_mode(KernelProbe& probe, const std::string& wanted);

// What keeps damond from kdamonds of its own in this tree (at `root`), or ""
// when nothing does.
std::string obstacle_to_own_kdamonds(const KernelProbe& probe, const std::string& root);

}  // namespace damond
