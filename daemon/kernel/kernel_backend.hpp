// The kernel side of damond's start-up, in one place: look at the DAMON tree
// (stat and read only), turn exclusive DAMON modules off when the config
// says so, take a pool of kdamonds of damond's own (or take back the pool an
// earlier run left running), and decide between the kernel and the
// in-process core, saying why. Then it makes the kernel contexts, answers
// the tree's facts off the main loop, and says at a stop whether DAMON is
// kept for the next start or handed back. Owned by the main thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "kernel/damon_modules.hpp"
#include "kernel/guarded_tree.hpp"
#include "kernel/kdamond_pool.hpp"
#include "kernel/kernel_facts.hpp"
#include "kernel/kernel_probe.hpp"
#include "kernel/pause_strategy.hpp"
#include "kernel/sysfs_tree.hpp"
#include "kernel/target_exits.hpp"
#include "monitor/backend.hpp"
#include "monitor/backend_facts.hpp"
#include "monitor/monitor.hpp"
#include "spec/context_spec.hpp"

namespace damond {

struct KernelBackendOptions {
    BackendChoice wanted = BackendChoice::Auto;
    std::string sysfs_root, modules_root, release;
    uint32_t pool_size = 0;
    std::string pool_rule;  // why that size, for BackendReason and Busy errors
    // The exclusive DAMON modules damond may turn off (config damon_modules).
    std::vector<std::string> disable_modules;
    std::string forced_pause_mode = "auto";
    bool keeps_state = false;
    std::string state_dir;
    std::chrono::milliseconds state_deadline{10000};
    DeepPause deep;
};

class KernelBackend {
public:
    // Throws std::runtime_error when the config forces a pause mode the
    // kernel cannot do (before anything is written).
    explicit KernelBackend(KernelBackendOptions options);
    KernelBackend(const KernelBackend&) = delete;
    KernelBackend& operator=(const KernelBackend&) = delete;

    // Where contexts run, and why.
    Backend backend() const { return backend_; }
    const std::string& reason() const { return reason_; }

    // A kernel context on a kdamond of the pool. When the pool is full,
    // `fallback` (backend auto, a process target) makes an in-process one
    // told why; otherwise Busy naming the limit. `post` hands work to the
    // main thread (the pool's record is kept there).
    std::unique_ptr<Monitor> make_monitor(
        const std::string& context, const ContextSpec& spec, const std::function<void(std::function<void()>)>& post,
        const std::function<std::unique_ptr<Monitor>(const std::string& why)>& fallback);
    // "native, 3 of 66 kdamonds in use", for STATUS=; "" without a pool.
    std::string status_detail() const;
    // The tree's facts for the bus (KernelFeatures, PauseMode, Kdamonds);
    // PauseMode says "inprocess" when damond's contexts run on its own core.
    BackendFacts facts();
    // After the restore: kdamonds of damond's that no context claimed go off.
    void turn_off_unclaimed();
    // Whether damond turned that DAMON module off (damon_modules "disable").
    bool turned_off(const std::string& module) const;
    // At a stop: `release` hands DAMON back (modules on, at destruction);
    // otherwise the modules stay off beside the kdamonds left running.
    void stopping(bool release);

private:
    KernelBackendOptions options_;
    FsSysfsTree admin_tree_, module_tree_;
    GuardedTree guarded_;       // every write of the kernel backend goes through it
    TargetExits target_exits_;  // every kernel context's vaddr targets, on one thread
    DamonModulesTurnedOff modules_off_;
    std::unique_ptr<KdamondPool> pool_;
    KernelProbe probe_;
    Backend backend_ = Backend::InProcess;
    std::string reason_;
    std::unique_ptr<KernelFacts> facts_;
};

}  // namespace damond
