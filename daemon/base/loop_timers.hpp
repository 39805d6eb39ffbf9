// One-shot timers for the main loop: the loop sleeps no later than
// next_due_us() and then calls run_due(). Nothing is polled while no timer
// is set, so an idle daemon stays asleep.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

namespace damond {

class LoopTimers {
public:
    // `at_us` on the loop's clock (CLOCK_MONOTONIC microseconds).
    void schedule(uint64_t at_us, std::function<void()> fn) { due_.emplace(at_us, std::move(fn)); }
    // UINT64_MAX when no timer is set.
    uint64_t next_due_us() const { return due_.empty() ? UINT64_MAX : due_.begin()->first; }
    // Runs every timer due by `now_us`, in order; timers they set run on a
    // later call, so a timer that re-arms itself for "now" cannot spin here.
    void run_due(uint64_t now_us) {
        std::multimap<uint64_t, std::function<void()>> ready;
        while (!due_.empty() && due_.begin()->first <= now_us) {
            ready.insert(due_.extract(due_.begin()));
        }
        for (auto& [at, fn] : ready) fn();
    }
    bool empty() const { return due_.empty(); }

private:
    std::multimap<uint64_t, std::function<void()>> due_;
};

}  // namespace damond
