// The kernel backend for one context: a kdamond damond owns, driven through
// its sysfs files. Pause is the probe's PauseMode, carried out by its
// PauseStrategy (pause_strategy.hpp), and deepened once the context has been
// paused for a while. Every operation runs on the context's own thread,
// one at a time, and every file access has a deadline; state() and error()
// answer any thread from what the last operation found. Regions are read
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

#include "kernel/deadline_tree.hpp"
#include "kernel/kernel_probe.hpp"
#include "kernel/pause_strategy.hpp"
#include "kernel/sysfs_tree.hpp"
#include "kernel/target_exits.hpp"
#include "monitor/monitor.hpp"

namespace damond {

class KernelMonitor : public Monitor, private KdamondFiles {
public:
    // `tree` should be a GuardedTree owning `kdamond`; every read and write
    // through it has `deadline`, told to whoever runs the operations through
    // call_watch() (a DeadlineTree of the monitor's own).
    // Throws DamondError for a spec the kernel cannot run.
    // `on_release(detached)` runs when the monitor is gone; detached means
    // the kdamond was left running for the next damond to adopt.
    // `adopt_pid`: the kdamond ran this context before damond restarted with
    // that pid; if it still does, start() adopts it instead of turning it on
    // (nothing is turned off, its trained state stays). `on_running(pid)`
    // runs after each "on" or adoption, to record the pid.
    KernelMonitor(const ContextSpec& spec, SysfsTree& tree, uint32_t kdamond, KernelProbe probe,
                  std::chrono::milliseconds deadline = std::chrono::seconds(10),
                  std::function<void(bool)> on_release = {}, int adopt_pid = -1,
                  std::function<void(int)> on_running = {}, DeepPause deep = {}, TargetExits* exits = nullptr);
    ~KernelMonitor() override;

    Backend backend() const override { return Backend::Kernel; }
    bool blocking() const override { return true; }
    CallWatch* call_watch() override { return &watch_; }
    CallTrace* call_trace() override { return &trace_; }
    std::string access_source() const override;
    std::string access_source_reason() const override;
    void start() override;
    void pause() override;
    // Without the read-back, but where pausing turns the kdamond off (the
    // checkpoint era), whose read-back is the checkpoint itself.
    void pause_unread() override;
    void resume() override;
    void commit(const ContextSpec& spec) override;
    void stop() override;
    void stop_for_restart() override;
    // A context paused for `deep.after` deepens its pause, to the quick
    // interval while a resume is likely soon, else the deep one; one deep
    // at the other interval moves to the right one.
    uint64_t settle_after_ms() const override;
    void settle() override;
    void set_quick_resume(bool quick) override { quick_resume_ = quick; }
    bool adopted() const { return adopted_; }
    bool deeply_paused() const { return deep_; }

    MonitorSnapshot snapshot() const override;
    MonitorStats stats() const override;
    ContextFigures figures() const override;
    // From what the last operation found: no sysfs access, so any thread
    // may ask while an operation runs.
    MonitorState state() const override;
    std::string error() const override;
    void set_event_handler(std::function<void()> handler) override;

    PauseMode pause_mode() const { return strategy_->mode(); }
    // Paused by checkpoint: the kdamond is off, its region boundaries kept.
    bool checkpointed() const { return paused_ && strategy_->turns_off(); }

private:
    int kdamond() const override { return static_cast<int>(kdamond_); }
    std::string kd() const { return "kdamonds/" + std::to_string(kdamond_); }
    std::string ctx() const { return kd() + "/contexts/0"; }
    // KdamondFiles, for the pause strategy.
    std::string context_dir() const override { return ctx(); }
    std::string read(const std::string& path) override { return tree_.read(path); }
    void write(const std::string& path, const std::string& value) override { tree_.write(path, value); }
    // A state command, retried on EBUSY.
    void command(KdamondCommand cmd) override;
    void stage(const ContextSpec& spec, bool paused) override;

    // Runs one public operation: a call that misses the deadline fails the
    // context naming the file; the state is published after it either way.
    template <class Fn>
    void operation(Fn fn);
    void publish();
    void check_after(KdamondCommand cmd);
    MonitorSnapshot read_back() const;
    void count_aggregations(const std::vector<SnapshotRegion>& regions, uint64_t sz_tried, size_t index) const;
    void fail(const std::string& why);
    // After a commit ended the kdamond: start it again with spec_, then throw.
    [[noreturn]] void restart_after_refused_commit(const std::string& why);
    bool adopt();
    // `spec` with the tuner's live intervals, where it keeps the ones the
    // kdamond runs with (kernel/pause_strategy.hpp: keep_tuned_intervals).
    ContextSpec with_tuned_intervals(const ContextSpec& spec);
    void leave_deep_pause(bool resume);
    uint64_t deep_interval_wanted() const;
    // From paused to running: the strategy's resume, or out of a deep pause.
    void resume_kdamond();
    void pause_kdamond(bool read_first);
    // vaddr targets: the backend's TargetExits sleeps on their pidfds; the
    // context is reported gone when the last one has exited.
    void watch_targets();
    void stop_watching();

    // The backend's watcher of targets' exits (or one of its own, alone).
    std::unique_ptr<TargetExits> own_exits_;
    TargetExits* exits_;
    CallWatch watch_;
    CallTrace trace_;
    DeadlineTree timed_;
    SysfsTree& tree_;  // timed_
    uint32_t kdamond_;
    KernelProbe probe_;
    std::unique_ptr<PauseStrategy> strategy_;
    DeepPause deep_pause_;
    std::function<void(bool)> on_release_;
    int adopt_pid_ = -1;
    std::function<void(int)> on_running_;
    bool adopted_ = false;
    bool detached_ = false;
    ContextSpec spec_;  // the last good spec
    bool paused_ = false;
    bool deep_ = false;
    uint64_t deep_interval_us_ = 0;  // while deep_
    bool quick_resume_ = false;
    bool started_ = false;
    bool failed_ = false;
    std::string error_;
    mutable MonitorSnapshot last_snapshot_;
    mutable uint64_t nr_reads_ = 0;
    // Aggregations counted from the read-back scheme's sz_tried: it matches
    // every region and is applied once per aggregation, so each apply adds
    // the whole monitored size. The kernel has no aggregation counter.
    mutable uint64_t nr_aggregations_ = 0;
    mutable uint64_t readback_sz_tried_ = 0;
    mutable size_t readback_index_ = SIZE_MAX;  // where those stats were read
    mutable std::mutex status_mu_;
    MonitorState shown_state_ = MonitorState::Stopped;
    std::string shown_error_;
    std::mutex handler_mu_;
    std::function<void()> handler_;
    bool watching_ = false;
    std::atomic<size_t> targets_left_{0};
    std::atomic<bool> targets_gone_{false};
    std::string gone_reason_;  // set before targets_gone_
    std::string pid_;          // the kdamond's pid since our last "on"
};

}  // namespace damond
