// The in-process backend: damond's own DAMON core. Its state lives on the
// executor's thread, which runs every in-process context from one deadline
// queue: one sampling deadline per running context, none while paused. The
// public methods may be called from any thread; each hands its work to the
// executor and returns once it is done.
#pragma once

#include <memory>

#include "core/damon_core.hpp"
#include "core/system_metrics.hpp"
#include "core/synthetic_source.hpp"
#include <mutex>

#include "monitor/executor.hpp"
#include "monitor/monitor.hpp"

namespace damond {

class InProcessMonitor : public Monitor {
public:
    // Throws DamondError(NotSupported) for what this backend cannot do yet.
    InProcessMonitor(const ContextSpec& spec, Executor& executor, SystemMetrics& metrics);
    ~InProcessMonitor() override;

    // Throws DamondError(NotSupported) naming the first field this backend
    // cannot honour.
    static void check_supported(const ContextSpec& spec);

    std::string backend() const override { return "inprocess"; }
    void start() override;
    void pause() override;
    void resume() override;
    void commit(const ContextSpec& spec) override;
    void stop() override;

    MonitorSnapshot snapshot() const override;
    MonitorStats stats() const override;
    MonitorState state() const override;
    std::string error() const override;
    void set_event_handler(std::function<void()> handler) override;

    // A copy of the core's state, taken on the executor's thread.
    DamonContext core_context() const;

private:
    void arm();
    void wait_for_activation(uint64_t wait_us);
    void disarm();
    void on_sample_end();
    void fail(MonitorState state, const std::string& why);
    MonitorSnapshot take_snapshot() const;

    Executor& executor_;
    SyntheticSource* source_ = nullptr;  // owned by core_
    std::unique_ptr<DamonCore> core_;
    bool start_paused_ = false;
    Intervals spec_intervals_;  // as the spec last said, to tell a real change from tuning
    MonitorState state_ = MonitorState::Stopped;
    std::optional<Scheduler::TimerId> timer_;
    uint64_t nr_samples_ = 0;
    std::string error_;
    std::mutex handler_mu_;
    std::function<void()> event_handler_;
};

}  // namespace damond
