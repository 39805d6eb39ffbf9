// What stays of a context whose monitor's thread was given up in the
// kernel (a call past its deadline, call_watch.hpp): the monitor itself
// now belongs to that thread, which ends it if the call ever returns. This
// stand-in answers for it: failed with the call's error, the figures as
// they were last known; every operation but a stop fails naming the error.
#pragma once

#include <string>

#include "monitor/context_figures.hpp"
#include "monitor/monitor.hpp"

namespace damond {

class GivenUpMonitor : public Monitor {
public:
    // Reads only what `stuck` fixed at its start (backend, kdamond, its
    // access source); the figures come from `last`, the snapshot the
    // manager last took, not from the stuck thread's monitor.
    GivenUpMonitor(const Monitor& stuck, MonitorSnapshot last, std::string error);

    Backend backend() const override { return backend_; }
    int kdamond() const override { return kdamond_; }
    std::string access_source() const override { return access_source_; }
    std::string access_source_reason() const override { return access_source_reason_; }
    void start() override { refuse(); }
    void pause() override { refuse(); }
    void resume() override { refuse(); }
    void commit(const ContextSpec&) override { refuse(); }
    void stop() override {}
    MonitorSnapshot snapshot() const override { return last_; }
    MonitorStats stats() const override { return stats_; }
    ContextFigures figures() const override { return figures_; }
    MonitorState state() const override { return MonitorState::Failed; }
    std::string error() const override { return error_; }
    void set_event_handler(std::function<void()>) override {}

private:
    [[noreturn]] void refuse() const;

    Backend backend_;
    int kdamond_;
    std::string access_source_, access_source_reason_;
    MonitorSnapshot last_;
    MonitorStats stats_;
    ContextFigures figures_;
    std::string error_;
};

}  // namespace damond
