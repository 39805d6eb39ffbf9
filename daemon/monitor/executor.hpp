// Where in-process monitors live: one thread owns every monitor's state and
// its deadline queue; other threads hand it work and wait for it to be done.
#pragma once

#include <functional>

#include "core/clock.hpp"
#include "monitor/scheduler.hpp"

namespace damond {

class Executor {
public:
    virtual ~Executor() = default;
    // Runs `fn` on the owning thread and returns once it has run; exceptions
    // propagate to the caller. Calling it from the owning thread runs `fn` at once.
    virtual void run_sync(const std::function<void()>& fn) = 0;
    // Hands `fn` to the owning thread and returns at once. It runs in order
    // with everything handed over before and after it (run_sync included),
    // so whatever reads through run_sync later sees it done.
    virtual void post(std::function<void()> fn) = 0;
    // Only to be used on the owning thread.
    virtual Scheduler& scheduler() = 0;
    virtual const Clock& clock() const = 0;
};

// Runs everything on the caller's thread: for tests that move a virtual clock.
class InlineExecutor : public Executor {
public:
    explicit InlineExecutor(const Clock& clock) : clock_(clock) {}
    void run_sync(const std::function<void()>& fn) override { fn(); }
    void post(std::function<void()> fn) override { fn(); }
    Scheduler& scheduler() override { return scheduler_; }
    const Clock& clock() const override { return clock_; }

private:
    const Clock& clock_;
    Scheduler scheduler_;
};

}  // namespace damond
