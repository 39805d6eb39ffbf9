// A Monitor that blocks like a kernel context does on sysfs: blocking() is
// true, so the manager runs its operations on the context's worker thread,
// and each operation waits while the test holds the gate. Lets the manager's
// asynchronous paths be tested without the emulator or a kernel.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "base/errors.hpp"
#include "monitor/context_figures.hpp"
#include "monitor/monitor.hpp"

namespace damond::testing {

// Shared by every BlockingMonitor of a test: hold() makes operations wait
// until release(); log() lists "<op>" in the order they ran.
class Gate {
public:
    void hold() {
        std::lock_guard<std::mutex> lock(mu_);
        held_ = true;
        only_.clear();
    }
    // Holds only the operations whose "<context> <op>" contains `only`.
    void hold_only(std::string only) {
        std::lock_guard<std::mutex> lock(mu_);
        held_ = true;
        only_ = std::move(only);
    }
    void release() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            held_ = false;
        }
        cv_.notify_all();
    }
    void pass(const std::string& op) {
        std::unique_lock<std::mutex> lock(mu_);
        ++waiting_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return !held_ || (!only_.empty() && op.find(only_) == std::string::npos); });
        --waiting_;
        log_.push_back(op);
    }
    // Operations waiting at the gate now.
    int waiting() {
        std::lock_guard<std::mutex> lock(mu_);
        return waiting_;
    }
    std::vector<std::string> log() {
        std::lock_guard<std::mutex> lock(mu_);
        return log_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool held_ = false;
    std::string only_;  // "": every operation is held
    int waiting_ = 0;
    std::vector<std::string> log_;
};

class BlockingMonitor : public Monitor {
public:
    // `deadline` > 0: each operation is one call with that deadline, told
    // to the CallWatch as the kernel monitor tells its sysfs calls.
    BlockingMonitor(std::string name, Gate& gate, std::chrono::milliseconds deadline = {})
        : name_(std::move(name)), gate_(gate), deadline_(deadline) {}
    CallWatch* call_watch() override { return deadline_.count() ? &watch_ : nullptr; }
    Backend backend() const override { return Backend::InProcess; }
    bool blocking() const override { return true; }
    std::string access_source() const override { return "fake"; }
    std::string access_source_reason() const override { return "a test's"; }
    void start() override { op("start", MonitorState::Running); }
    void pause() override { op("pause", MonitorState::Paused); }
    void resume() override { op("resume", MonitorState::Running); }
    void commit(const ContextSpec&) override { op("commit", state_); }
    void stop() override { op("stop", MonitorState::Stopped); }
    void set_quick_resume(bool quick) override { gate_.pass(name_ + (quick ? " quick" : " not quick")); }
    MonitorSnapshot snapshot() const override { return {}; }
    MonitorStats stats() const override { return {}; }
    ContextFigures figures() const override { return {}; }
    MonitorState state() const override { return state_; }
    std::string error() const override { return ""; }
    void set_event_handler(std::function<void()>) override {}

private:
    void op(const std::string& what, MonitorState after) {
        if (watch_.given_up()) throw DamondError(ErrorKind::Failed, "given up");
        if (deadline_.count())
            watch_.begin(name_ + ": " + what + " did not return within " + std::to_string(deadline_.count()) + " ms",
                         CallWatch::Clock::now() + deadline_);
        gate_.pass(name_ + " " + what);
        watch_.end();
        if (watch_.given_up()) throw DamondError(ErrorKind::Failed, "given up");
        state_ = after;
    }
    std::string name_;
    Gate& gate_;
    std::chrono::milliseconds deadline_;
    CallWatch watch_;
    std::atomic<MonitorState> state_{MonitorState::Stopped};
};

}  // namespace damond::testing
