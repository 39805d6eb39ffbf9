// The in-process backend: damond's own DAMON core, driven by the shared
// scheduler. One sampling deadline per running context; none while paused.
#pragma once

#include <memory>

#include "core/damon_core.hpp"
#include "core/synthetic_source.hpp"
#include "monitor/clock.hpp"
#include "monitor/monitor.hpp"
#include "monitor/scheduler.hpp"

namespace damond {

class InProcessMonitor : public Monitor {
public:
    // Throws DamondError(NotSupported) for what this backend cannot do yet.
    InProcessMonitor(const ContextSpec& spec, Scheduler& scheduler, const Clock& clock);
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
    MonitorState state() const override { return state_; }

    const DamonCore& core() const { return *core_; }

private:
    void arm();
    void disarm();
    void on_sample_end();

    Scheduler& scheduler_;
    const Clock& clock_;
    SyntheticSource* source_ = nullptr;  // owned by core_
    std::unique_ptr<DamonCore> core_;
    bool start_paused_ = false;
    MonitorState state_ = MonitorState::Stopped;
    std::optional<Scheduler::TimerId> timer_;
    uint64_t nr_samples_ = 0;
};

}  // namespace damond
