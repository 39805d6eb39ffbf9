// The one thread that runs every in-process context: it sleeps until the
// earliest deadline in its queue, or until handed work. With no deadline it
// sleeps without a timeout, so paused contexts cost no wake-ups at all.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "monitor/executor.hpp"

namespace damond {

class SchedulerThread : public Executor {
public:
    explicit SchedulerThread(const Clock& clock);
    ~SchedulerThread() override;

    void run_sync(const std::function<void()>& fn) override;
    void post(std::function<void()> fn) override;
    Scheduler& scheduler() override { return scheduler_; }
    const Clock& clock() const override { return clock_; }

    // How many times the thread has woken up, for the wake-up benchmark.
    uint64_t wakeups() const;

private:
    void loop();

    const Clock& clock_;
    Scheduler scheduler_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    uint64_t wakeups_ = 0;
    std::thread::id owner_;
    std::thread thread_;
};

}  // namespace damond
