// A deadline queue run by the thread that owns all mutable state. Monitors
// put their next sampling deadline here; a paused monitor holds none, so it
// causes no wake-ups at all.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

namespace damond {

class Scheduler {
public:
    using TimerId = uint64_t;

    TimerId schedule_at(uint64_t when_us, std::function<void()> fn);
    void cancel(TimerId id);
    std::optional<uint64_t> next_deadline() const;
    // Runs every callback due at `now_us`, earliest first; returns how many ran.
    // Callbacks may schedule or cancel timers.
    size_t run_due(uint64_t now_us);
    size_t pending() const { return queue_.size(); }

private:
    // Ordered by (deadline, id): equal deadlines run in scheduling order.
    std::map<std::pair<uint64_t, TimerId>, std::function<void()>> queue_;
    std::map<TimerId, uint64_t> deadline_of_;
    TimerId next_id_ = 1;
};

}  // namespace damond
