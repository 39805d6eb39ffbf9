// damond: parse the options, read the config, let the kernel side look at
// DAMON and choose the backend, then run the service (daemon/damond_service)
// until it is told to stop.
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "base/log.hpp"
#include "base/signal_fd.hpp"
#include "damond_service.hpp"
#include "kernel/kernel_backend.hpp"
#include "kernel/kernel_version.hpp"
#include "manager/config.hpp"
#include "options.hpp"

#ifndef DAMOND_VERSION
#define DAMOND_VERSION "0"
#endif

namespace damond {
namespace {

// What the kernel side needs of the options and the config.
KernelBackendOptions kernel_backend_options(const Options& opts, const Config& config, const StatePlace& state) {
    KernelBackendOptions k;
    k.wanted = opts.backend.value_or(config.backend);
    k.sysfs_root = opts.sysfs_root;
    k.modules_root = opts.modules_root;
    k.release = opts.kernel_release.value_or(running_kernel_release());
    k.pool_size = opts.kdamonds.value_or(kernel_pool_size(config));
    k.pool_rule = opts.kdamonds ? std::string("--kdamonds")
                                : "the config's contexts + 2 x apps.max_apps (" + std::to_string(config.apps.max_apps) +
                                      ")" + (runs_system_stat_kdamond(config) ? " + system-stat" : "");
    k.disable_modules = modules_to_disable(config);
    k.forced_pause_mode = config.kernel_pause_mode;
    k.keeps_state = state.keep;
    k.state_dir = state.dir;
    k.state_deadline = std::chrono::milliseconds(opts.state_deadline_ms);
    k.deep.after = std::chrono::milliseconds(config.deep_pause_after_ms);
    k.deep.interval_us = config.deep_pause_interval_ms * 1000;
    k.deep.quick_interval_us = config.recent_pause_interval_ms * 1000;
    return k;
}

int run(const Options& opts) {
    SignalFd signals;  // first: every thread started later has the signals blocked
    const Config config = opts.config_path ? load_config(*opts.config_path) : Config{};
    const StatePlace state = state_place(opts);
    KernelBackend kernel(kernel_backend_options(opts, config, state));
    DamondService service(opts, config, state, kernel);
    return service.run(signals);
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
    if (starter_type && std::string(starter_type) == "system" && starter_address &&
        !std::getenv("DBUS_SYSTEM_BUS_ADDRESS"))
        setenv("DBUS_SYSTEM_BUS_ADDRESS", starter_address, 1);
    try {
        return run(opts);
    } catch (const std::exception& e) {
        log_error(e.what());
        return 1;
    }
}
