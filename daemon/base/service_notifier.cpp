#include "base/service_notifier.hpp"

#include <systemd/sd-daemon.h>

namespace damond {

ServiceNotifier::ServiceNotifier(uint64_t now_us) {
    uint64_t usec = 0;
    // > 0 only when WATCHDOG_USEC is set for this very process.
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_period_us_ = usec / 2;
        watchdog_due_us_ = now_us;  // the first one right away
    }
}

void ServiceNotifier::ready(const std::string& status) { sd_notify(0, ("READY=1\nSTATUS=" + status).c_str()); }

void ServiceNotifier::status(const std::string& status) { sd_notify(0, ("STATUS=" + status).c_str()); }

void ServiceNotifier::reloading(uint64_t now_us) {
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", static_cast<unsigned long long>(now_us));
}

void ServiceNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void ServiceNotifier::feed_watchdog(uint64_t now_us) {
    if (!watchdog_period_us_ || now_us < watchdog_due_us_) return;
    sd_notify(0, "WATCHDOG=1");
    watchdog_due_us_ = now_us + watchdog_period_us_;
}

}  // namespace damond
