// damond: parse options and config, build the manager, export it on the bus,
// then run the loop that owns the manager: bus messages, signals and news
// from the monitors are all handled on this thread. In-process monitors run
// on their own scheduler thread and are handed work synchronously.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <systemd/sd-daemon.h>

#include "bus_service.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "kernel/damon_modules.hpp"
#include "kernel/guarded_tree.hpp"
#include "kernel/kdamond_pool.hpp"
#include "kernel/kernel_facts.hpp"
#include "kernel/kernel_monitor.hpp"
#include "kernel/kernel_probe.hpp"
#include "manager/app_registry.hpp"
#include "manager/config.hpp"
#include "manager/manager.hpp"
#include "manager/persistence.hpp"
#include "core/clock.hpp"
#include "monitor/inprocess_monitor.hpp"
#include "monitor/proc_system_metrics.hpp"
#include "monitor/scheduler_thread.hpp"
#include "events/registry_sink.hpp"
#include "loop_timers.hpp"
#include "options.hpp"
#include "service_notifier.hpp"
#include "task_queue.hpp"
#include "unique_fd.hpp"

#ifndef DAMOND_VERSION
#define DAMOND_VERSION "0"
#endif

namespace damond {
namespace {

struct BackendChoice {
    std::string name;
    std::string reason;
};

// "kernel" needs its own kdamonds: it takes a pool when nothing in the tree
// stands in the way; otherwise it stays "kernel" and every context it is
// asked for fails with Busy naming the obstacle. "auto" then falls back to
// the in-process core and says why.
BackendChoice choose_backend(const std::string& wanted, const std::string& obstacle) {
    if (wanted == "inprocess") return {"inprocess", "asked for"};
    if (obstacle.empty()) return {"kernel", ""};
    if (wanted == "kernel") return {"kernel", "backend 'kernel': " + obstacle};
    return {"inprocess", "auto: " + obstacle + "; using the in-process core"};
}

std::string default_state_dir() {
    const char* dir = std::getenv("STATE_DIRECTORY");  // set by systemd's StateDirectory=
    return dir && *dir ? std::string(dir) : std::string("/var/lib/damond");
}

constexpr uint64_t kCheckpointPeriodUs = 60ULL * 1000000;

int sleep_ms(uint64_t deadline_us, uint64_t now_us) {
    if (deadline_us == UINT64_MAX) return -1;
    if (deadline_us <= now_us) return 0;
    // Round up so a deadline is never polled for just before it is due.
    return static_cast<int>(std::min<uint64_t>((deadline_us - now_us + 999) / 1000, INT32_MAX));
}

int run(const Options& opts) {
    // Signals arrive as a readable fd so they are handled in the loop, never
    // inside a signal handler. Blocked before any thread starts, so every
    // thread inherits the mask and none is killed by them.
    // A background job of a shell starts with SIGINT ignored, and an ignored
    // signal never reaches a signalfd: restore the defaults first.
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd sigfd = checked_fd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK), "signalfd");

    Config config;
    if (opts.config_path) config = load_config(*opts.config_path);
    FsSysfsTree admin_tree(opts.sysfs_root), module_tree(opts.modules_root);
    GuardedTree guarded(admin_tree);  // every write of the kernel backend goes through it
    const std::string release = opts.kernel_release.value_or(running_kernel_release());
    std::unique_ptr<KdamondPool> pool;
    const std::string wanted = opts.backend.value_or(config.backend);
    // State is kept only with a state directory given (or set by systemd):
    // two damonds sharing a default one would restore each other's contexts.
    const char* state_env = std::getenv("STATE_DIRECTORY");
    const bool keeps_state = opts.state_dir || (state_env && *state_env);
    const std::string state_dir = opts.state_dir.value_or(default_state_dir());
    // kdamonds an earlier run left running are re-adopted, never turned off.
    std::optional<KdamondPool> recorded;
    if (wanted != "inprocess" && keeps_state) {
        std::string why;
        recorded = KdamondPool::recorded(admin_tree, state_dir, why);
        if (!recorded) log_info("no kdamonds to re-adopt: " + why);
    }
    const std::set<uint32_t> recorded_set = recorded ? recorded->all() : std::set<uint32_t>{};
    KernelProbe kernel = probe_kernel(admin_tree, module_tree, release, recorded_set);
    // Only when the config says so: turn off the exclusive DAMON modules for
    // as long as damond uses DAMON, and back on when it hands DAMON back.
    DamonModulesTurnedOff modules_off(module_tree,
                                      keeps_state && wanted != "inprocess" ? state_dir + "/damon-modules-off" : "");
    if (wanted != "inprocess" && config.damon_modules == "disable" && !kernel.exclusive_modules_running.empty()) {
        for (const std::string& m : kernel.exclusive_modules_running) modules_off.turn_off(m);
        kernel = probe_kernel(admin_tree, module_tree, release, recorded_set);
    }
    std::string obstacle = obstacle_to_own_kdamonds(kernel, opts.sysfs_root);
    // Sized once: nr_kdamonds cannot change while any kdamond runs.
    const uint32_t pool_size = opts.kdamonds.value_or(kernel_pool_size(config));
    const std::string pool_rule = opts.kdamonds ? std::string("--kdamonds")
                                                : "the config's contexts + 2 x apps.max_apps (" +
                                                      std::to_string(config.apps.max_apps) + ")";
    auto force_configured_pause_mode = [&config](KernelProbe& p) {
        if (const std::string why = force_pause_mode(p, config.kernel_pause_mode); !why.empty())
            throw std::runtime_error("kernel.pause_mode: '" + config.kernel_pause_mode + "': " + why);
    };
    // A pause mode the config forces is checked before anything is written,
    // and again on the probe that sees damond's own kdamonds.
    if (wanted != "inprocess" && obstacle.empty()) {
        KernelProbe check = kernel;
        force_configured_pause_mode(check);
    }
    if (wanted != "inprocess" && obstacle.empty() && recorded) {
        // Nothing written: nr_kdamonds must not change under running kdamonds.
        pool = std::make_unique<KdamondPool>(std::move(*recorded));
        pool->own_in(guarded);
        kernel = probe_kernel(admin_tree, module_tree, release, pool->all());
        log_info("re-adopting kdamonds " + std::to_string(*pool->all().begin()) + ".." +
                 std::to_string(*pool->all().rbegin()) + " of an earlier run",
                 {message_id::kKdamondAdopted});
    } else if (wanted != "inprocess" && obstacle.empty()) {
        try {
            pool = std::make_unique<KdamondPool>(guarded, pool_size, state_dir);
            // Stage a skeleton in damond's first kdamond, so the probe can see
            // the feature files down to the scheme level.
            const std::string kd = "kdamonds/" + std::to_string(*pool->all().begin());
            guarded.write(kd + "/contexts/nr_contexts", "1");
            guarded.write(kd + "/contexts/0/targets/nr_targets", "1");
            guarded.write(kd + "/contexts/0/schemes/nr_schemes", "1");
            kernel = probe_kernel(admin_tree, module_tree, release, pool->all());
        } catch (const std::exception& e) {
            obstacle = std::string("cannot take kdamonds: ") + e.what();
            pool.reset();
        }
    }
    if (pool) force_configured_pause_mode(kernel);
    BackendChoice choice = choose_backend(wanted, obstacle);
    if (choice.name == "kernel" && pool)
        choice.reason = std::to_string(pool->all().size()) + " kdamonds (" + std::to_string(*pool->all().begin()) + ".." +
                        std::to_string(*pool->all().rbegin()) + ", " + pool_rule + ") are damond's; pause mode " +
                        to_string(kernel.pause_mode);
    const std::string backend = choice.name, backend_reason = choice.reason;
    log_info("backend " + backend + ": " + backend_reason);
    // Looks afresh on every Get (stat and read only), off the main loop.
    const std::set<uint32_t> own = pool ? pool->all() : std::set<uint32_t>{};
    const std::string forced_mode = config.kernel_pause_mode;
    KernelFacts facts(
        [&admin_tree, &module_tree, release, own, forced_mode, has_pool = pool != nullptr] {
            KernelProbe p = probe_kernel(admin_tree, module_tree, release, own);
            if (has_pool) force_pause_mode(p, forced_mode);  // checked at start-up
            return p;
        },
        std::chrono::milliseconds(20), kernel);
    DeepPause deep;
    deep.after = std::chrono::milliseconds(config.deep_pause_after_ms);
    deep.interval_us = config.deep_pause_interval_ms * 1000;

    MonotonicClock clock;
    SchedulerThread monitors(clock);
    ProcSystemMetrics metrics;
    TaskQueue main_tasks;
    Manager manager(
        backend,
        [&](const std::string& name, const ContextSpec& spec) -> std::unique_ptr<Monitor> {
            if (backend != "kernel") return std::make_unique<InProcessMonitor>(spec, monitors, metrics);
            if (!pool) throw DamondError(ErrorKind::Busy, backend_reason);
            const auto k = pool->acquire(name);
            if (!k) {
                const std::string full = "all " + std::to_string(pool->all().size()) + " of damond's kdamonds are in use (" +
                                         pool_rule + ", sized at start-up)";
                // auto: the context runs in process rather than not at all.
                if (wanted == "auto" && spec.ops != Ops::Paddr) {
                    auto m = std::make_unique<InProcessMonitor>(spec, monitors, metrics);
                    m->set_backend_reason(full + "; running in process");
                    return m;
                }
                throw DamondError(ErrorKind::Busy, full);
            }
            return std::make_unique<KernelMonitor>(
                spec, guarded, *k, kernel, std::chrono::milliseconds(opts.state_deadline_ms),
                [&pool, k](bool detached) { pool->release(*k, detached); }, pool->recorded_pid(name, *k),
                // May run on the context's worker thread: the record is kept on this one.
                [&pool, &main_tasks, name, k](int pid) {
                    main_tasks.post([&pool, name, k, pid] { pool->running(name, *k, pid); });
                },
                deep);
        },
        [&](std::function<void()> fn) { main_tasks.post(std::move(fn)); });
    manager.set_backend_reason(backend_reason);
    if (backend == "kernel" && pool)
        manager.set_backend_detail([&pool, mode = std::string(to_string(kernel.pause_mode))] {
            return mode + ", " + std::to_string(pool->in_use()) + " of " + std::to_string(pool->all().size()) +
                   " kdamonds in use";
        });
    // PauseMode says how damond's contexts pause: on the in-process backend
    // that is its own core, whatever the kernel could do.
    manager.set_facts_source([&facts, backend] {
        BackendFacts f = facts.get();
        if (backend != "kernel") {
            f.pause_mode_reason = "contexts run in damond's own DAMON core, which pauses without losing its regions "
                                  "(the kernel's DAMON would pause by '" + f.pause_mode + "')";
            f.pause_mode = "inprocess";
        }
        return f;
    });

    AppRegistry apps(manager, config.apps, [&clock] { return clock.now_us(); },
                     [&main_tasks](std::function<void()> fn) { main_tasks.post(std::move(fn)); });
    LoopTimers timers;
    apps.set_schedule([&timers](uint64_t at_us, std::function<void()> fn) { timers.schedule(at_us, std::move(fn)); });
    manager.set_schedule([&timers, &clock](uint64_t delay_ms, std::function<void()> fn) {
        timers.schedule(clock.now_us() + delay_ms * 1000, std::move(fn));
    });
    // Reload, from SIGHUP or the bus: all of the new config or none of it.
    BusService* bus_ptr = nullptr;  // set once the bus exists
    std::vector<std::unique_ptr<EventSource>> sources;
    const AppEventSink sink = registry_sink(apps);
    std::string config_rejected;  // shown in STATUS= until a reload succeeds
    // Calls `done` with "" or why the new config was rejected, once applied.
    auto reload = [&](std::function<void(std::string)> done) {
        if (!opts.config_path) return done("damond runs without a config file (--config)");
        Config next;
        try {
            next = load_config(*opts.config_path);
        } catch (const std::exception& e) {
            config_rejected = *opts.config_path + ": " + e.what();
            log_error("reload rejected, the running configuration stays: " + config_rejected, {message_id::kReloadRejected});
            return done(config_rejected);
        }
        config_rejected.clear();
        apps.set_config(next.apps);
        if (bus_ptr) bus_ptr->set_authorization(next.authorization);
        sources.clear();  // watch what the new config names
        sources = make_event_sources(next.apps, sink);
        manager.apply_config(next, [done, path = *opts.config_path](std::vector<std::string> errors) {
            for (const std::string& err : errors) log_error("reload: " + err);
            log_info("reloaded " + path, {message_id::kConfigReloaded});
            done("");
        });
    };
    ServiceNotifier notifier(clock.now_us());
    auto status_text = [&] {
        const std::string s = manager.status_text();
        return config_rejected.empty() ? s : s + "; config rejected: " + config_rejected;
    };

    bool release_requested = false;  // by Release(): stop handing DAMON back
    BusService bus(
        manager, apps, opts.bus == "session" ? BusKind::Session : BusKind::System, DAMOND_VERSION,
        config.authorization,
        [&](std::function<void(std::string)> done) {
            notifier.reloading(clock.now_us());
            reload([&, done](std::string error) {
                notifier.ready(status_text());
                done(error);
            });
        },
        [&release_requested] { release_requested = true; });
    bus_ptr = &bus;
    // What ran before a restart comes back before READY=1. Only with a state
    // directory given (or set by systemd): two damonds sharing a default one
    // would restore each other's contexts.
    std::unique_ptr<Persistence> persistence;
    if (keeps_state) {
        const char* runtime_env = std::getenv("RUNTIME_DIRECTORY");  // set by systemd's RuntimeDirectory=
        persistence = std::make_unique<Persistence>(manager, apps, state_dir, runtime_env ? runtime_env : "");
        persistence->offer_checkpoints();  // the config's contexts warm-start too
    }
    for (const std::string& err : manager.apply_config(config)) log_error(err);
    if (persistence) {
        for (const std::string& problem : persistence->restore([&bus](const std::string& name) {
                 return bus.name_has_owner(name);
             }))
            log_error("restore: " + problem);
        if (pool)
            for (const std::string& line : pool->turn_off_unclaimed(guarded)) log_info(line);
    } else {
        log_info("no --state-dir and no $STATE_DIRECTORY: contexts, apps and holds are not kept across restarts");
    }
    // STATUS= is recomputed only after a change, not on every loop turn.
    bool status_dirty = false;
    manager.set_change_hook([&status_dirty, &persistence](bool kept) {
        status_dirty = true;
        if (kept && persistence) persistence->save();  // before the reply to whoever changed it
    });
    apps.set_change_hook([&persistence] {
        if (persistence) persistence->save();
    });
    // Checkpoints also while running, so a crash loses at most this much training.
    std::function<void()> checkpoint_tick = [&] {
        persistence->save_checkpoints();
        timers.schedule(clock.now_us() + kCheckpointPeriodUs, checkpoint_tick);
    };
    // Not now: the contexts just restored are their checkpoints.
    if (persistence) timers.schedule(clock.now_us() + kCheckpointPeriodUs, checkpoint_tick);
    // Started once the bus object exists, so apps they find at once are
    // announced like any other.
    sources = make_event_sources(config.apps, sink);
    bus.request_name();
    log_info("ready on the " + opts.bus + " bus: " + manager.status_text(), {message_id::kReady});
    std::string status = status_text();
    notifier.ready(status);

    // Stopping. `release`: every kdamond off and the DAMON modules back on
    // (no state kept, or Release()); otherwise kernel contexts stay running,
    // trained, for the next start to adopt, and the modules stay off.
    auto stop = [&](const std::string& why, bool release) {
        log_info("stopping " + why + (release ? "" : "; damond's kdamonds keep running for the next start"),
                 {message_id::kStopping});
        notifier.stopping();
        if (persistence) persistence->save_checkpoints();  // the trained state, for the next start
        // Every context stops at once, each on its own thread; a kdamond that does not
        // answer is left behind after the deadline rather than holding the exit.
        bool stopped = false;
        manager.stop_all(!release, [&stopped] { stopped = true; });
        const uint64_t give_up = clock.now_us() + uint64_t(opts.state_deadline_ms) * 1000 + 1000000;
        while (!stopped && clock.now_us() < give_up) {
            pollfd tasks{main_tasks.fd(), POLLIN, 0};
            poll(&tasks, 1, sleep_ms(give_up, clock.now_us()));
            main_tasks.drain();
        }
        sigfd.reset();
        if (!stopped) {
            log_error("stopping: " + std::to_string(manager.operations_under_way()) +
                      " kernel operation(s) did not finish; leaving them behind");
            std::fflush(nullptr);
            _exit(0);
        }
        if (!release) modules_off.keep_off();
        return 0;
    };

    for (;;) {
        bus.process();
        if (status_dirty) {
            status_dirty = false;
            if (const std::string now = status_text(); now != status) {
                status = now;
                notifier.status(status);
            }
        }
        // Fed only from here: if the loop stops turning, systemd restarts damond.
        notifier.feed_watchdog(clock.now_us());

        std::vector<pollfd> fds = {{bus.fd(), bus.events(), 0}, {sigfd.get(), POLLIN, 0}, {main_tasks.fd(), POLLIN, 0}};
        for (const auto& source : sources) fds.push_back({source->fd(), POLLIN, 0});
        const uint64_t wake_at = std::min({bus.timeout_us(), timers.next_due_us(), notifier.watchdog_due_us()});
        if (poll(fds.data(), fds.size(), sleep_ms(wake_at, clock.now_us())) < 0 && errno != EINTR)
            throw std::runtime_error(std::string("poll: ") + strerror(errno));
        if (fds[2].revents & POLLIN) main_tasks.drain();
        timers.run_due(clock.now_us());
        for (size_t i = 0; i < sources.size(); ++i)
            if (fds[3 + i].revents & POLLIN) sources[i]->handle();

        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            while (read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                if (si.ssi_signo == SIGHUP) {
                    notifier.reloading(clock.now_us());
                    reload([&](const std::string&) {
                        status = status_text();
                        notifier.ready(status);
                    });
                } else {
                    return stop(std::string("on ") + strsignal(static_cast<int>(si.ssi_signo)), persistence == nullptr);
                }
            }
        }
        if (release_requested) return stop("on Release(), handing DAMON back", true);
    }
}

}  // namespace
}  // namespace damond

int main(int argc, char** argv) {
    using namespace damond;
    Options opts;
    try {
        opts = parse_options(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::cerr << "damond: " << e.what() << "\n" << usage_text();
        return 2;
    }
    if (opts.help) {
        std::cout << usage_text();
        return 0;
    }
    if (opts.version) {
        std::cout << "damond " << DAMOND_VERSION << "\n";
        return 0;
    }
    // Started by a bus's own activation (no systemd): that bus is the one to
    // serve, and sd-bus only looks at DBUS_SYSTEM_BUS_ADDRESS.
    const char* starter_type = std::getenv("DBUS_STARTER_BUS_TYPE");
    const char* starter_address = std::getenv("DBUS_STARTER_ADDRESS");
    if (starter_type && std::string(starter_type) == "system" && starter_address && !std::getenv("DBUS_SYSTEM_BUS_ADDRESS"))
        setenv("DBUS_SYSTEM_BUS_ADDRESS", starter_address, 1);
    try {
        return run(opts);
    } catch (const std::exception& e) {
        log_error(e.what());
        return 1;
    }
}
