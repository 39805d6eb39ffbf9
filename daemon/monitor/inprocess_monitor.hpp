// The in-process backend: damond's own DAMON core. Its state lives on the
// executor's thread, which runs every in-process context from one deadline
// queue: one sampling deadline per running context, none while paused. The
// public methods may be called from any thread; each hands its work to the
// executor and returns once it is done.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "core/damon_core.hpp"
#include "core/system_metrics.hpp"
#include "monitor/context_figures.hpp"
#include "monitor/executor.hpp"
#include "monitor/monitor.hpp"
#include "sources/proc_fs.hpp"

namespace damond {

class InProcessMonitor : public Monitor {
public:
    // Throws DamondError: NotSupported for what this backend cannot do,
    // InvalidSpec for a target process that does not exist.
    InProcessMonitor(const ContextSpec& spec, Executor& executor, SystemMetrics& metrics, const ProcFs& fs = ProcFs());
    ~InProcessMonitor() override;

    Backend backend() const override { return Backend::InProcess; }
    std::string access_source() const override { return source_name_; }
    std::string access_source_reason() const override { return source_reason_; }
    void start() override;
    void pause() override;
    void resume() override;
    void commit(const ContextSpec& spec) override;
    void stop() override;

    MonitorSnapshot snapshot() const override;
    std::string checkpoint() const override;
    std::string warm_start_from(const std::string& checkpoint) override;
    MonitorStats stats() const override;
    ContextFigures figures() const override;
    MonitorState state() const override;
    std::string error() const override;
    void set_event_handler(std::function<void()> handler) override;

    // A copy of the core's state, taken on the executor's thread.
    DamonContext core_context() const;

private:
    // Throws DamondError(NotSupported) naming the first field the source in
    // use cannot honour.
    void check_supported(const ContextSpec& spec) const;
    void arm();
    void wait_for_activation(uint64_t wait_us);
    void disarm();
    void on_sample_end();
    void fail(MonitorState state, const std::string& why);
    MonitorSnapshot take_snapshot() const;
    // What a checkpoint must match: the spec without its pause wish, and the
    // start time of every target process.
    static std::string identity_of(const ContextSpec& spec);
    std::string identity_;
    std::optional<std::vector<MonitorTarget>> warm_;

    Executor& executor_;
    AccessSource* source_ = nullptr;                    // owned by core_
    std::function<void(const ContextSpec&)> retarget_;  // bound to source_ by its factory
    std::string source_name_;
    std::string source_reason_;
    AccessSourceCaps caps_;
    std::unique_ptr<DamonCore> core_;
    bool start_paused_ = false;
    Ops spec_ops_;
    Intervals spec_intervals_;                    // as the spec last said, to tell a real change from tuning
    MonitorState state_ = MonitorState::Stopped;  // the executor's thread's own
    // state_ as last set, for readers on other threads: the manager asks
    // every context's state after each change, and a cross-thread call per
    // context made that O(contexts) hand-offs.
    std::atomic<MonitorState> published_state_{MonitorState::Stopped};
    void set_state(MonitorState s) {
        state_ = s;
        published_state_.store(s, std::memory_order_release);
    }
    // Pause and resume are handed over without waiting for the executor: the
    // caller publishes the state it asked for (only from `from`, so a monitor
    // that failed meanwhile stays failed) and the task applies it unpublished.
    bool wish(MonitorState from, MonitorState to) {
        return published_state_.compare_exchange_strong(from, to, std::memory_order_acq_rel);
    }
    std::optional<Scheduler::TimerId> timer_;
    uint64_t nr_samples_ = 0;
    // The counts as of the last sample, for stats() from other threads
    // without a hand-off (a status of every context asks them all).
    std::atomic<uint64_t> published_samples_{0}, published_aggregations_{0}, published_regions_{0};
    void publish_stats();
    // The figures, recomputed at each aggregation on the executor's thread
    // and read from any thread.
    void publish_figures();
    uint64_t figures_aggregation_ = UINT64_MAX;
    FiguresBuilder figures_builder_;
    ContextFigures figures_scratch_;
    mutable std::mutex figures_mu_;
    ContextFigures figures_;
    std::string error_;
    std::mutex handler_mu_;
    std::function<void()> event_handler_;
};

}  // namespace damond
