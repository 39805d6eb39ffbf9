// damond while it runs: the in-process monitors' thread, the manager and
// apps, the event sources, the bus, what is kept across restarts, and the
// one loop that owns them all — bus messages, signals, timers and news from
// the monitors' threads are all handled on the thread that calls run().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/loop_timers.hpp"
#include "base/service_notifier.hpp"
#include "base/signal_fd.hpp"
#include "base/task_queue.hpp"
#include "bus_service.hpp"
#include "core/clock.hpp"
#include "events/event_source.hpp"
#include "kernel/kernel_backend.hpp"
#include "manager/app_registry.hpp"
#include "manager/config.hpp"
#include "manager/manager.hpp"
#include "manager/persistence.hpp"
#include "manager/system_stat.hpp"
#include "metrics/metrics_textfile.hpp"
#include "monitor/proc_system_metrics.hpp"
#include "monitor/scheduler_thread.hpp"
#include "options.hpp"

namespace damond {

// Where contexts, apps and holds are kept: only with a state directory
// given (or set by systemd's StateDirectory=) — two damonds sharing a
// default one would restore each other's contexts.
struct StatePlace {
    bool keep = false;
    std::string dir;
};
StatePlace state_place(const Options& opts);

// It hears the manager's and the apps' changes itself: the bus is told, the
// state saved, the status line marked stale.
class DamondService : private ManagerListener, private AppListener {
public:
    // Builds everything, restores what a restart left, starts the event
    // sources and takes the bus name; READY=1 follows.
    DamondService(const Options& opts, const Config& config, const StatePlace& state, KernelBackend& kernel);
    // Until SIGTERM/SIGINT or Release(); returns the exit status.
    int run(SignalFd& signals);

private:
    void context_added(const std::string& name) override;
    void context_removed(const std::string& name) override;
    void context_changed(const std::string& name, const std::vector<ContextField>& fields) override;
    void holds_changed() override;
    void changed(bool kept) override;
    void app_added(const std::string& app_id) override;
    void app_removed(const std::string& app_id) override;
    void app_pids_changed(const std::string& app_id) override;
    void app_reclaim_changed(const std::string& app_id) override;
    void app_state_changed(const std::string& app_id, AppState old_state, AppTransition now) override;
    void apps_changed(Durability durability) override;
    // Turns the loop's task queue once, waiting a moment for work: how
    // start-up waits for operations before the loop runs (finish_here.hpp).
    void turn_tasks();

    std::unique_ptr<Monitor> make_monitor(const std::string& name, const ContextSpec& spec);
    // Re-reads the config file: all of it or none. `done` gets "" or why not.
    void reload(std::function<void(std::string)> done);
    // reload() between RELOADING=1 and READY=1, from SIGHUP or the bus.
    void reload_notified(std::function<void(std::string)> done);
    std::string status_text() const;
    void schedule_checkpoints();
    // Stats change signals: once a second while a context runs (see
    // Manager::announce_stats); resting otherwise, so an idle damond sleeps.
    void arm_stats_tick();
    bool stats_tick_armed_ = false;
    // metrics.textfile, rewritten every metrics.interval_ms.
    void apply_metrics_config(const MetricsConfig& config, uint32_t apps_max_apps);
    void schedule_metrics();
    // A history point for every context each metrics.history_interval_ms;
    // the history saved with the state every kHistorySaveUs and at stop.
    void schedule_history();
    uint64_t history_generation_ = 0;
    uint64_t history_saved_us_ = 0;
    static constexpr uint64_t kHistorySaveUs = 3600ULL * 1000000;
    void write_metrics();
    // DAMON_STAT's stand-in, when damond turned the module off (system_stat).
    void start_system_stat(const Config& config);
    void schedule_system_stat();
    std::unique_ptr<SystemStat> system_stat_;
    MetricsConfig metrics_config_;
    uint32_t metrics_max_apps_ = 32;
    std::unique_ptr<MetricsTextfile> textfile_;
    uint64_t metrics_generation_ = 0;  // a reload's new interval drops the old timer
    uint64_t kernel_readback_us_ = 0;  // when kernel contexts were last read back for figures
    bool textfile_failing_ = false;    // said once, and again when it works
    // `release`: every kdamond off and the DAMON modules back on (no state
    // kept, or Release()); otherwise kernel contexts stay running, trained,
    // for the next start to adopt, and the modules stay off.
    int stop(const std::string& why, bool release, SignalFd& signals);

    const Options& opts_;
    KernelBackend& kernel_;
    MonotonicClock clock_;
    SchedulerThread monitors_;
    ProcSystemMetrics metrics_;
    TaskQueue tasks_;
    LoopTimers timers_;
    Manager manager_;
    AppRegistry apps_;
    AppEventSink sink_;
    std::vector<std::unique_ptr<EventSource>> sources_;
    std::string config_rejected_;  // shown in STATUS= until a reload succeeds
    ServiceNotifier notifier_;
    bool release_requested_ = false;
    // Which app is in the foreground is saved at most this often (and at
    // stop), not on every switch: see docs/service.md, "What is saved when".
    static constexpr uint64_t kSwitchSaveDelayUs = 1000000;
    static constexpr uint64_t kStatsTickUs = 1000000;
    bool switch_save_pending_ = false;
    BusService bus_;
    std::unique_ptr<Persistence> persistence_;
    bool status_dirty_ = false;  // STATUS= is recomputed only after a change
    std::string status_;
};

}  // namespace damond
