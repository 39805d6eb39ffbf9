// What damond tells its service manager (sd_notify): READY, STATUS,
// WATCHDOG, RELOADING and STOPPING. The watchdog is fed from the main loop
// at half systemd's interval, so a loop that stops turning is caught; with
// no watchdog configured nothing is ever scheduled. Without systemd
// (no NOTIFY_SOCKET) every call is a no-op.
#pragma once

#include <cstdint>
#include <string>

namespace damond {

class ServiceNotifier {
public:
    // `now_us`: CLOCK_MONOTONIC microseconds, as the main loop's clock.
    explicit ServiceNotifier(uint64_t now_us);

    void ready(const std::string& status);
    void status(const std::string& status);
    void reloading(uint64_t now_us);
    void stopping();

    // When the loop must wake next to feed the watchdog; UINT64_MAX if never.
    uint64_t watchdog_due_us() const { return watchdog_due_us_; }
    // Feeds the watchdog if it is due.
    void feed_watchdog(uint64_t now_us);

private:
    uint64_t watchdog_period_us_ = 0;  // half WatchdogSec=, 0 for none
    uint64_t watchdog_due_us_ = UINT64_MAX;
};

}  // namespace damond
