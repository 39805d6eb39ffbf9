#include "damond_service.hpp"

#include "metrics/damond_metrics.hpp"

#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "base/log.hpp"
#include "events/registry_sink.hpp"
#include "kernel/damon_stat_stand_in.hpp"
#include "kernel/system_ram.hpp"
#include "monitor/inprocess_monitor.hpp"

#ifndef DAMOND_VERSION
#define DAMOND_VERSION "0"
#endif

namespace damond {

namespace {

constexpr uint64_t kCheckpointPeriodUs = 60ULL * 1000000;

int sleep_ms(uint64_t deadline_us, uint64_t now_us) {
    if (deadline_us == UINT64_MAX) return -1;
    if (deadline_us <= now_us) return 0;
    // Round up so a deadline is never polled for just before it is due.
    return static_cast<int>(std::min<uint64_t>((deadline_us - now_us + 999) / 1000, INT32_MAX));
}

}  // namespace

StatePlace state_place(const Options& opts) {
    const char* dir = std::getenv("STATE_DIRECTORY");  // set by systemd's StateDirectory=
    const bool from_systemd = dir && *dir;
    return {opts.state_dir.has_value() || from_systemd,
            opts.state_dir.value_or(from_systemd ? std::string(dir) : std::string("/var/lib/damond"))};
}

DamondService::DamondService(const Options& opts, const Config& config, const StatePlace& state, KernelBackend& kernel)
    : opts_(opts),
      kernel_(kernel),
      monitors_(clock_),
      manager_(ManagerParts{
          .backend = kernel.backend(),
          .backend_reason = kernel.reason(),
          .make_monitor = [this](const std::string& name, const ContextSpec& spec) { return make_monitor(name, spec); },
          .post = [this](std::function<void()> fn) { tasks_.post(std::move(fn)); },
          .schedule =
              [this](uint64_t delay_ms, std::function<void()> fn) {
                  timers_.schedule(clock_.now_us() + delay_ms * 1000, std::move(fn));
              },
          .now_us = [this] { return clock_.now_us(); },
          .listener = this,
          .facts = [this] { return kernel_.facts(); },
          .backend_detail = [this] { return kernel_.status_detail(); },
          .limits = config.limits,
      }),
      apps_(manager_, AppRegistry::Parts{
                          .config = config.apps,
                          .now_us = [this] { return clock_.now_us(); },
                          .post = [this](std::function<void()> fn) { tasks_.post(std::move(fn)); },
                          .schedule = [this](uint64_t at_us,
                                             std::function<void()> fn) { timers_.schedule(at_us, std::move(fn)); },
                          .listener = this,
                          .reclaim_system = live_reclaim_system(),
                      }),
      sink_(registry_sink(apps_)),
      notifier_(clock_.now_us()),
      bus_(
          manager_, apps_, opts.bus == "session" ? BusKind::Session : BusKind::System, DAMOND_VERSION,
          config.authorization, [this](std::function<void(std::string)> done) { reload_notified(std::move(done)); },
          [this] { release_requested_ = true; }) {
    manager_.history().configure(config.metrics.history_points, config.metrics.history_interval_ms * 1000);
    // What ran before a restart comes back before READY=1.
    if (state.keep) {
        const char* runtime_env = std::getenv("RUNTIME_DIRECTORY");  // set by systemd's RuntimeDirectory=
        persistence_ = std::make_unique<Persistence>(
            manager_, apps_, [this] { turn_tasks(); }, state.dir, runtime_env ? runtime_env : "");
        persistence_->offer_checkpoints();  // the config's contexts warm-start too
        persistence_->load_history();
    }
    // Restoring, taking the bus name and READY=1 wait for the config's
    // contexts: nothing of them is announced half-made.
    bool applied = false;
    manager_.apply_config(config, [&applied](std::vector<std::string> errors) {
        for (const std::string& err : errors) log_error(err);
        applied = true;
    });
    while (!applied) turn_tasks();
    start_system_stat(config);
    if (persistence_) {
        for (const std::string& problem :
             persistence_->restore([this](const std::string& name) { return bus_.name_has_owner(name); }))
            log_error("restore: " + problem);
        kernel_.turn_off_unclaimed();
    } else {
        log_info("no --state-dir and no $STATE_DIRECTORY: contexts, apps and holds are not kept across restarts");
    }
    // Not now: the contexts just restored are their checkpoints.
    if (persistence_) schedule_checkpoints();
    // Started once the bus object exists, so apps they find at once are
    // announced like any other.
    sources_ = make_event_sources(config.apps, sink_);
    apply_metrics_config(config.metrics, config.apps.max_apps);
    arm_stats_tick();
    history_saved_us_ = clock_.now_us();
    schedule_history();
    bus_.request_name();
    log_info("ready on the " + opts.bus + " bus: " + manager_.status_text(), {message_id::kReady});
    status_ = status_text();
    notifier_.ready(status_);
}

void DamondService::context_added(const std::string& name) { bus_.manager_listener().context_added(name); }
void DamondService::context_removed(const std::string& name) { bus_.manager_listener().context_removed(name); }
void DamondService::context_changed(const std::string& name, const std::vector<ContextField>& fields) {
    bus_.manager_listener().context_changed(name, fields);
}
void DamondService::holds_changed() { bus_.manager_listener().holds_changed(); }
void DamondService::changed(bool kept) {
    status_dirty_ = true;
    arm_stats_tick();
    if (kept && persistence_) persistence_->save();  // before the reply to whoever changed it
}
void DamondService::app_added(const std::string& app_id) { bus_.app_listener().app_added(app_id); }
void DamondService::app_removed(const std::string& app_id) { bus_.app_listener().app_removed(app_id); }
void DamondService::app_pids_changed(const std::string& app_id) { bus_.app_listener().app_pids_changed(app_id); }
void DamondService::app_reclaim_changed(const std::string& app_id) { bus_.app_listener().app_reclaim_changed(app_id); }
void DamondService::app_state_changed(const std::string& app_id, AppState old_state, AppTransition now) {
    bus_.app_listener().app_state_changed(app_id, old_state, now);
}
void DamondService::apps_changed(Durability durability) {
    status_dirty_ = true;
    if (!persistence_) return;
    if (durability == Durability::Now) return persistence_->save();
    // Coalesced: at most one write per kSwitchSaveDelayUs, and at stop.
    if (switch_save_pending_) return;
    switch_save_pending_ = true;
    timers_.schedule(clock_.now_us() + kSwitchSaveDelayUs, [this] {
        switch_save_pending_ = false;
        persistence_->save();
    });
}

void DamondService::turn_tasks() {
    pollfd tasks{tasks_.fd(), POLLIN, 0};
    poll(&tasks, 1, 10);
    tasks_.drain();
}

std::unique_ptr<Monitor> DamondService::make_monitor(const std::string& name, const ContextSpec& spec) {
    if (kernel_.backend() != Backend::Kernel) return std::make_unique<InProcessMonitor>(spec, monitors_, metrics_);
    return kernel_.make_monitor(
        name, spec, [this](std::function<void()> fn) { tasks_.post(std::move(fn)); },
        [this, &spec](const std::string& why) -> std::unique_ptr<Monitor> {
            auto m = std::make_unique<InProcessMonitor>(spec, monitors_, metrics_);
            m->set_backend_reason(why);
            return m;
        });
}

// Checkpoints also while running, so a crash loses at most this much training.
void DamondService::schedule_checkpoints() {
    timers_.schedule(clock_.now_us() + kCheckpointPeriodUs, [this] {
        persistence_->save_checkpoints();
        schedule_checkpoints();
    });
}

void DamondService::arm_stats_tick() {
    if (stats_tick_armed_) return;
    stats_tick_armed_ = true;
    timers_.schedule(clock_.now_us() + kStatsTickUs, [this] {
        stats_tick_armed_ = false;
        if (manager_.announce_stats()) arm_stats_tick();
    });
}

void DamondService::apply_metrics_config(const MetricsConfig& config, uint32_t apps_max_apps) {
    metrics_config_ = config;
    metrics_max_apps_ = config.max_apps ? config.max_apps : apps_max_apps;
    bus_.set_metrics_max_apps(metrics_max_apps_);
    if (textfile_ && textfile_->path() != config.textfile) textfile_->remove();
    textfile_.reset();
    metrics_generation_++;
    if (config.textfile.empty()) return;
    textfile_ = std::make_unique<MetricsTextfile>(config.textfile);
    log_info("metrics: writing " + config.textfile + " every " + std::to_string(config.interval_ms) + " ms");
    write_metrics();
    schedule_metrics();
}

void DamondService::schedule_metrics() {
    timers_.schedule(clock_.now_us() + metrics_config_.interval_ms * 1000, [this, generation = metrics_generation_] {
        if (generation != metrics_generation_ || !textfile_) return;
        // Kernel contexts are read back now for the next write (no write
        // waits for a kdamond), at most every metrics.kernel_readback_ms.
        const uint64_t now = clock_.now_us();
        if (metrics_config_.kernel_readback_ms &&
            now - kernel_readback_us_ >= metrics_config_.kernel_readback_ms * 1000) {
            kernel_readback_us_ = now;
            manager_.refresh_figures();
        }
        write_metrics();
        schedule_metrics();
    });
}

void DamondService::schedule_history() {
    if (manager_.history().capacity() == 0) return;
    timers_.schedule(clock_.now_us() + manager_.history().step_us(), [this, generation = history_generation_] {
        if (generation != history_generation_) return;
        timespec now{};
        clock_gettime(CLOCK_REALTIME, &now);
        manager_.record_history(uint64_t(now.tv_sec) * 1000000 + uint64_t(now.tv_nsec) / 1000);
        if (persistence_ && clock_.now_us() - history_saved_us_ >= kHistorySaveUs) {
            persistence_->save_history();
            history_saved_us_ = clock_.now_us();
        }
        schedule_history();
    });
}

void DamondService::start_system_stat(const Config& config) {
    if (!config.system_stat || kernel_.backend() != Backend::Kernel) return;
    if (!config.system_stat_always && !kernel_.turned_off("damon_stat")) return;
    const std::optional<AddrRange> ram = biggest_system_ram_in_memmap();
    if (!ram) {
        log_warning("system-stat: /sys/firmware/memmap names no System RAM; DAMON_STAT's figures are not served");
        return;
    }
    const std::vector<std::string> features = manager_.backend_facts().features;
    auto has = [&](const char* f) { return std::find(features.begin(), features.end(), f) != features.end(); };
    const CgroupsPlan plan = plan_cgroups(config.system_cgroups, has("probes"), opts_.cgroup_root);
    if (!plan.why.empty()) log_info("system-stat: memory by cgroup: " + plan.why);
    ContextSpec spec = damon_stat_stand_in(*ram, has("intervals_goal"));
    spec.probes = probes_for(plan.probe_paths);
    try {
        manager_.create_context(kSystemStatContext, spec, [probes = !spec.probes.empty()](std::exception_ptr error) {
            if (error)
                log_error(std::string("system-stat: ") + error_text(error) +
                          (probes ? " (with the kernel's probes for memory by cgroup; \"system_cgroups\": "
                                    "{\"method\": \"kpagecgroup\"} does without them)"
                                  : ""));
        });
    } catch (const std::exception& e) {
        log_error(std::string("system-stat: ") + e.what());
        return;
    }
    system_stat_ = std::make_unique<SystemStat>(
        manager_, kSystemStatContext, [this] { return clock_.now_us(); }, config.system_cgroups,
        CgroupSources{opts_.cgroup_root, opts_.kpagecgroup}, plan);
    bus_.set_system_stat(system_stat_.get());
    log_info("system-stat: serving DAMON_STAT's figures from context '" + std::string(kSystemStatContext) + "'");
    schedule_system_stat();
}

void DamondService::schedule_system_stat() {
    timers_.schedule(clock_.now_us() + SystemStat::kRefreshMs * 1000, [this] {
        system_stat_->refresh();
        schedule_system_stat();
    });
}

void DamondService::write_metrics() {
    try {
        const MetricsOptions options = with_system_stat({DAMOND_VERSION, metrics_max_apps_}, system_stat_.get());
        textfile_->write(render(gather_metrics(manager_, apps_, options), Exposition::Prometheus));
        if (textfile_failing_) log_info("metrics: " + textfile_->path() + " written again");
        textfile_failing_ = false;
    } catch (const std::exception& e) {
        if (!textfile_failing_) log_error(std::string("metrics: ") + e.what() + "; trying again every interval");
        textfile_failing_ = true;
    }
}

void DamondService::reload(std::function<void(std::string)> done) {
    if (!opts_.config_path) return done("damond runs without a config file (--config)");
    Config next;
    try {
        next = load_config(*opts_.config_path);
    } catch (const std::exception& e) {
        config_rejected_ = *opts_.config_path + ": " + e.what();
        log_error("reload rejected, the running configuration stays: " + config_rejected_,
                  {message_id::kReloadRejected});
        return done(config_rejected_);
    }
    config_rejected_.clear();
    apps_.set_config(next.apps);
    if (!(next.metrics.textfile == metrics_config_.textfile &&
          next.metrics.interval_ms == metrics_config_.interval_ms && next.metrics.max_apps == metrics_config_.max_apps))
        apply_metrics_config(next.metrics, next.apps.max_apps);
    if (next.metrics.history_points != manager_.history().capacity() ||
        next.metrics.history_interval_ms * 1000 != manager_.history().step_us()) {
        manager_.history().configure(next.metrics.history_points, next.metrics.history_interval_ms * 1000);
        history_generation_++;
        schedule_history();
    }
    bus_.set_authorization(next.authorization);
    sources_.clear();  // watch what the new config names
    sources_ = make_event_sources(next.apps, sink_);
    manager_.apply_config(next, [done, path = *opts_.config_path](std::vector<std::string> errors) {
        for (const std::string& err : errors) log_error("reload: " + err);
        log_info("reloaded " + path, {message_id::kConfigReloaded});
        done("");
    });
}

void DamondService::reload_notified(std::function<void(std::string)> done) {
    notifier_.reloading(clock_.now_us());
    reload([this, done](std::string error) {
        status_ = status_text();
        notifier_.ready(status_);
        done(error);
    });
}

std::string DamondService::status_text() const {
    const std::string s = manager_.status_text();
    return config_rejected_.empty() ? s : s + "; config rejected: " + config_rejected_;
}

int DamondService::run(SignalFd& signals) {
    for (;;) {
        bus_.process();
        // Checked before sleeping: the Release() call may have been the last
        // message for a while (its caller's NameOwnerChanged can be read in
        // the same process() turn), so nothing else would wake the poll.
        if (release_requested_) return stop("on Release(), handing DAMON back", true, signals);
        if (status_dirty_) {
            status_dirty_ = false;
            if (const std::string now = status_text(); now != status_) {
                status_ = now;
                notifier_.status(status_);
            }
        }
        // Fed only from here: if the loop stops turning, systemd restarts damond.
        notifier_.feed_watchdog(clock_.now_us());

        std::vector<pollfd> fds = {{bus_.fd(), bus_.events(), 0}, {signals.fd(), POLLIN, 0}, {tasks_.fd(), POLLIN, 0}};
        for (const auto& source : sources_) fds.push_back({source->fd(), POLLIN, 0});
        const uint64_t wake_at = std::min({bus_.timeout_us(), timers_.next_due_us(), notifier_.watchdog_due_us()});
        if (poll(fds.data(), fds.size(), sleep_ms(wake_at, clock_.now_us())) < 0 && errno != EINTR)
            throw std::runtime_error(std::string("poll: ") + strerror(errno));
        if (fds[2].revents & POLLIN) tasks_.drain();
        timers_.run_due(clock_.now_us());
        for (size_t i = 0; i < sources_.size(); ++i)
            if (fds[3 + i].revents & POLLIN) sources_[i]->handle();
        if (fds[1].revents & POLLIN)
            while (const std::optional<int> sig = signals.next()) {
                if (*sig == SIGHUP)
                    reload_notified([](const std::string&) {});
                else
                    return stop(std::string("on ") + strsignal(*sig), persistence_ == nullptr, signals);
            }
    }
}

int DamondService::stop(const std::string& why, bool release, SignalFd& signals) {
    log_info("stopping " + why + (release ? "" : "; damond's kdamonds keep running for the next start"),
             {message_id::kStopping});
    notifier_.stopping();
    if (persistence_) {
        persistence_->save();              // the app states a coalesced write still owed
        persistence_->save_checkpoints();  // the trained state, for the next start
        persistence_->save_history();
    }
    // Every context stops at once, each on its own thread; a kdamond that does
    // not answer is left behind after the deadline rather than holding the exit.
    bool stopped = false;
    manager_.stop_all(!release, [&stopped] { stopped = true; });
    const uint64_t give_up = clock_.now_us() + uint64_t(opts_.state_deadline_ms) * 1000 + 1000000;
    while (!stopped && clock_.now_us() < give_up) {
        pollfd tasks{tasks_.fd(), POLLIN, 0};
        poll(&tasks, 1, sleep_ms(give_up, clock_.now_us()));
        tasks_.drain();
    }
    bus_.flush_signals();  // the contexts' last changes
    signals.close();
    if (!stopped) {
        log_error("stopping: " + std::to_string(manager_.operations_under_way()) +
                  " kernel operation(s) did not finish; leaving them behind");
        std::fflush(nullptr);
        _exit(0);
    }
    if (textfile_) textfile_->remove();
    kernel_.stopping(release);
    return 0;
}

}  // namespace damond
