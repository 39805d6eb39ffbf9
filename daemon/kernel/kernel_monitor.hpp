// The kernel backend for one context: a kdamond damond owns, driven through
// its sysfs files. Pause uses the best the kernel allows (the probe's
// PauseMode): the 7.2 pause file, watermark parking, or, where a parked
// kdamond would never resume, a checkpoint: the region boundaries are kept,
// the kdamond turned off, and started again from them. Regions are read
// back through a stat scheme damond appends after the user's schemes
// (appending keeps the index-matched state of theirs), whose tried regions
// are every region.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kernel/kernel_probe.hpp"
#include "kernel/sysfs_tree.hpp"
#include "monitor/monitor.hpp"

namespace damond {

class KernelMonitor : public Monitor {
public:
    // `tree` should be a GuardedTree owning `kdamond`. Throws DamondError
    // for a spec the kernel cannot run.
    // `on_release(detached)` runs when the monitor is gone; detached means
    // the kdamond was left running for the next damond to adopt.
    // `adopt_pid`: the kdamond ran this context before damond restarted with
    // that pid; if it still does, start() adopts it instead of turning it on
    // (nothing is turned off, its trained state stays). `on_running(pid)`
    // runs after each "on" or adoption, to record the pid.
    KernelMonitor(const ContextSpec& spec, SysfsTree& tree, uint32_t kdamond, KernelProbe probe,
                  std::chrono::milliseconds state_deadline = std::chrono::seconds(10),
                  std::function<void(bool)> on_release = {}, int adopt_pid = -1,
                  std::function<void(int)> on_running = {});
    ~KernelMonitor() override;

    std::string backend() const override { return "kernel"; }
    bool blocking() const override { return true; }
    std::string access_source() const override;
    std::string access_source_reason() const override;
    void start() override;
    void pause() override;
    void resume() override;
    void commit(const ContextSpec& spec) override;
    void stop() override;
    void stop_for_restart() override;
    bool adopted() const { return adopted_; }

    MonitorSnapshot snapshot() const override;
    MonitorStats stats() const override;
    MonitorState state() const override;
    std::string error() const override;
    void set_event_handler(std::function<void()> handler) override;

    PauseMode pause_mode() const { return probe_.pause_mode; }
    // Paused by checkpoint: the kdamond is off, its region boundaries kept.
    bool checkpointed() const { return paused_ && probe_.pause_mode == PauseMode::Checkpoint; }

private:
    std::string kd() const { return "kdamonds/" + std::to_string(kdamond_); }
    std::string ctx() const { return kd() + "/contexts/0"; }
    // The spec as staged: the user's, with pause or parking applied.
    ContextSpec staged(const ContextSpec& spec, bool paused) const;
    void stage(const ContextSpec& spec, bool paused);
    void write_pause(bool paused);
    // A state command, retried on EBUSY, bounded by the deadline.
    void command(const std::string& cmd);
    void check_after(const std::string& cmd);
    MonitorSnapshot read_back() const;
    void count_aggregations(const std::vector<SnapshotRegion>& regions, uint64_t sz_tried, size_t index) const;
    void fail(const std::string& why);
    // After a commit ended the kdamond: start it again with spec_, then throw.
    [[noreturn]] void restart_after_refused_commit(const std::string& why);
    // vaddr targets: one thread sleeps on their pidfds and reports when the
    // last one has exited.
    void watch_targets();
    void stop_watching();

    SysfsTree& tree_;
    uint32_t kdamond_;
    KernelProbe probe_;
    std::chrono::milliseconds deadline_;
    std::function<void(bool)> on_release_;
    int adopt_pid_ = -1;
    std::function<void(int)> on_running_;
    bool adopted_ = false;
    bool detached_ = false;
    ContextSpec spec_;  // the last good spec
    bool paused_ = false;
    bool started_ = false;
    bool failed_ = false;
    std::string error_;
    mutable MonitorSnapshot last_snapshot_;
    std::vector<AddrRange> checkpoint_;  // region boundaries kept by a checkpoint pause
    mutable uint64_t nr_reads_ = 0;
    // Aggregations counted from the read-back scheme's sz_tried: it matches
    // every region and is applied once per aggregation, so each apply adds
    // the whole monitored size. The kernel has no aggregation counter.
    mutable uint64_t nr_aggregations_ = 0;
    mutable uint64_t readback_sz_tried_ = 0;
    mutable size_t readback_index_ = SIZE_MAX;  // where those stats were read
    std::mutex handler_mu_;
    std::function<void()> handler_;
    std::vector<int> pidfds_;
    int wake_fd_ = -1;
    std::thread watcher_;
    std::atomic<bool> targets_gone_{false};
    std::string gone_reason_;
    std::string pid_;  // the kdamond's pid since our last "on"
};

}  // namespace damond
