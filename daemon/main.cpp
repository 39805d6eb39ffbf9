// damond: parse options and config, build the manager, export it on the bus,
// then run the loop that owns the manager: bus messages, signals and news
// from the monitors are all handled on this thread. In-process monitors run
// on their own scheduler thread and are handed work synchronously.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>

#include <systemd/sd-daemon.h>

#include "bus_service.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "manager/config.hpp"
#include "manager/manager.hpp"
#include "core/clock.hpp"
#include "monitor/inprocess_monitor.hpp"
#include "monitor/proc_system_metrics.hpp"
#include "monitor/scheduler_thread.hpp"
#include "options.hpp"
#include "task_queue.hpp"

#ifndef DAMOND_VERSION
#define DAMOND_VERSION "0"
#endif

namespace damond {
namespace {

// The kernel backend does not exist yet: "auto" means the in-process core.
std::string choose_backend(const std::string& wanted) {
    if (wanted == "kernel")
        throw DamondError(ErrorKind::NotSupported,
                          "backend 'kernel' is not available in this version of damond; use 'inprocess' or 'auto'");
    if (wanted == "auto") log_info("backend auto: using the in-process core (no kernel backend in this version)");
    return "inprocess";
}

void notify_status(const Manager& manager, const char* extra = nullptr) {
    std::string msg = extra ? std::string(extra) + "\n" : std::string();
    msg += "STATUS=" + manager.status_text();
    sd_notify(0, msg.c_str());
}

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
    const int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) throw std::runtime_error(std::string("signalfd: ") + strerror(errno));

    Config config;
    if (opts.config_path) config = load_config(*opts.config_path);
    const std::string backend = choose_backend(opts.backend.value_or(config.backend));

    MonotonicClock clock;
    SchedulerThread monitors(clock);
    ProcSystemMetrics metrics;
    TaskQueue main_tasks;
    Manager manager(
        backend,
        [&](const ContextSpec& spec) -> std::unique_ptr<Monitor> {
            return std::make_unique<InProcessMonitor>(spec, monitors, metrics);
        },
        [&](std::function<void()> fn) { main_tasks.post(std::move(fn)); });

    BusService bus(manager, opts.bus == "session" ? BusKind::Session : BusKind::System, DAMOND_VERSION);
    for (const std::string& err : manager.apply_config(config)) log_error(err);
    bus.request_name();
    log_info("ready on the " + opts.bus + " bus: " + manager.status_text());
    notify_status(manager, "READY=1");
    std::string status = manager.status_text();

    for (;;) {
        bus.process();
        if (manager.status_text() != status) {
            status = manager.status_text();
            notify_status(manager);
        }

        pollfd fds[3] = {{bus.fd(), bus.events(), 0}, {sigfd, POLLIN, 0}, {main_tasks.fd(), POLLIN, 0}};
        if (poll(fds, 3, sleep_ms(bus.timeout_us(), clock.now_us())) < 0 && errno != EINTR)
            throw std::runtime_error(std::string("poll: ") + strerror(errno));
        if (fds[2].revents & POLLIN) main_tasks.drain();

        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            while (read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                if (si.ssi_signo == SIGHUP) {
                    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", static_cast<unsigned long long>(clock.now_us()));
                    if (!opts.config_path) {
                        log_info("SIGHUP: no config file to reload");
                    } else {
                        try {
                            const Config next = load_config(*opts.config_path);
                            for (const std::string& err : manager.apply_config(next)) log_error("reload: " + err);
                            log_info("reloaded " + *opts.config_path);
                        } catch (const std::exception& e) {
                            log_error("reload failed, keeping the running configuration: " + std::string(e.what()));
                        }
                    }
                    notify_status(manager, "READY=1");
                } else {
                    log_info(std::string("stopping on ") + strsignal(static_cast<int>(si.ssi_signo)));
                    sd_notify(0, "STOPPING=1");
                    manager.stop_all();
                    close(sigfd);
                    return 0;
                }
            }
        }
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
    try {
        return run(opts);
    } catch (const std::exception& e) {
        log_error(e.what());
        return 1;
    }
}
