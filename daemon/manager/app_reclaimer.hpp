// Giving back what a background app uses in neither phase: `after_ms`
// after it left the foreground, the ranges both of its contexts saw idle
// (reclaim_ranges.hpp) are paged out, at most `bytes_per_s`, on a thread of
// the reclaimer's own (paging out waits on the kernel's reclaim; the loop
// never does). A switch back to the foreground stops it first: the switch
// goes on once no page of the app can be paged out any more (at most one
// chunk, a tenth of a second of the rate). Nothing at all without swap, or
// with less than `min_free_swap_percent` of it free. After each return, the
// app's major faults over `refault_window_ms` are counted: what paging out
// cost it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "manager/config.hpp"
#include "manager/manager.hpp"
#include "manager/reclaim_ranges.hpp"
#include "manager/reclaim_system.hpp"

namespace damond {

class AppReclaimer {
public:
    using Schedule = std::function<void(uint64_t, std::function<void()>)>;
    struct Parts {
        Manager* manager = nullptr;
        std::function<uint64_t()> now_us;
        // From the reclaim's thread to the loop's.
        std::function<void(std::function<void()>)> post;
        // schedule(at_us, fn) on the loop, on the now_us clock.
        Schedule schedule;
        std::shared_ptr<ReclaimSystem> system;
        // An app's figures changed (on the loop).
        std::function<void(const std::string& app_id)> changed;
    };
    struct Figures {
        uint64_t reclaims = 0;
        uint64_t last_bytes = 0;
        uint64_t total_bytes = 0;
        uint64_t last_at_us = 0;     // when the last one ended, 0 for never
        std::string last_outcome;    // what the last one did or why it did nothing
        uint64_t refault_bytes = 0;  // major faults x page size over the window after the last return
        uint64_t returns_counted = 0;
        bool frozen = false;  // its cgroup, by damond, until it returns
    };

    AppReclaimer(Parts parts, AppReclaimConfig config);
    ~AppReclaimer();
    void set_config(AppReclaimConfig config) { config_ = config; }

    // The app went to the background: its reclaim is due after `after_ms`.
    // `cgroup`: the app's own cgroup directory, frozen after the reclaim
    // with apps.reclaim.freeze; "" for none (then it is never frozen).
    // `start_times`: of its processes (pid -> /proc/<pid>/stat field 22), so
    // that a pid reused by another process meanwhile is never paged out.
    void left_foreground(const std::string& app_id, const std::string& foreground_context,
                         const std::string& background_context, const std::string& cgroup = "",
                         std::map<uint32_t, uint64_t> start_times = {});
    // Before the app's switch to the foreground: a pending reclaim is
    // dropped and one under way stopped; `go` once none of the app's memory
    // can be paged out any more.
    void before_foreground(const std::string& app_id, std::function<void()> go);
    // It is in the foreground again: its major faults are counted from now.
    void returned(const std::string& app_id, const std::vector<uint32_t>& pids);
    void forget(const std::string& app_id);
    const Figures* figures(const std::string& app_id) const;

private:
    // What both contexts saw, and the processes: the worker reads their
    // anonymous memory and chooses (reading /proc/PID/maps takes the
    // process's mmap lock, which the loop never waits on).
    struct Job {
        std::string app_id;
        MonitorSnapshot foreground, background;
        std::vector<uint32_t> pids;
        std::map<uint32_t, uint64_t> start_times;
        ReclaimRule rule;
        uint64_t bytes_per_s = 0;
        std::shared_ptr<std::atomic<bool>> stop;
    };
    struct AppState {
        uint64_t generation = 0;                     // anything since makes a scheduled step stale
        std::shared_ptr<std::atomic<bool>> running;  // the stop flag of the job under way
        std::vector<std::function<void()>> waiting;  // switches waiting for it to stop
        std::string cgroup;                          // its own, "" for none
        uint64_t left_us = 0;                        // when it last left the foreground
        uint64_t due_us = 0;                         // when its reclaim began reading its contexts
        uint64_t read_us = 0;                        // and when it had read them
        std::string fg, bg;                          // its contexts, for a second look
        std::map<uint32_t, uint64_t> start_times;    // of its processes
        bool looked_again = false;                   // in this background
        Figures figures;
    };
    void start(const std::string& app_id, uint64_t generation, const std::string& fg, const std::string& bg);
    void plan(const std::string& app_id, uint64_t generation, const std::string& bg, const MonitorSnapshot& fg_snap,
              const MonitorSnapshot& bg_snap);
    void finished(const std::string& app_id, uint64_t bytes, uint64_t planned, uint64_t took_us, bool stopped,
                  const std::string& error, const std::string& seen);
    // The worker's: the ranges to page out, per process, and what each
    // context alone saw idle (`seen`).
    std::vector<std::pair<uint32_t, std::vector<ReclaimRange>>> choose(const Job& job, std::string& seen);
    // The end of a reclaim (`what` it did); with apps.reclaim.freeze, the
    // freeze follows unless a return stopped it.
    void outcome(const std::string& app_id, const std::string& what, bool stopped = false);
    void thaw(AppState& app, const std::string& app_id);
    // Nothing to page out at the first look: a background context that
    // started over when the app left (6.12's checkpoint pause, a new app)
    // cannot have seen min_idle_ms yet. Looks once more when it can have,
    // and says so after `what`.
    std::string look_again(const std::string& app_id, uint64_t generation);
    void run_jobs();
    uint64_t run(const Job& job, const std::vector<std::pair<uint32_t, std::vector<ReclaimRange>>>& ranges,
                 std::string& error);

    Parts parts_;
    AppReclaimConfig config_;
    std::map<std::string, AppState> apps_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;
    bool quit_ = false;
    std::thread worker_;
};

}  // namespace damond
