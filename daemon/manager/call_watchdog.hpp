// The deadline of every blocking operation under way, on one thread for all
// contexts: while an operation runs on a context's thread, the watchdog
// looks at that context's CallWatch (every 50 ms, and not at all while no
// operation runs, so an idle damond is not woken) and reports a call past
// its deadline once. The report must only hand the news to the manager's
// thread, which gives the context's thread up.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "monitor/call_watch.hpp"

namespace damond {

class CallWatchdog {
public:
    using Overdue = std::function<void(uint64_t ticket, const std::string& error)>;
    explicit CallWatchdog(Overdue overdue);
    ~CallWatchdog();
    CallWatchdog(const CallWatchdog&) = delete;
    CallWatchdog& operator=(const CallWatchdog&) = delete;

    // Looks at `watch` until forget(ticket); the watch must outlive that.
    uint64_t watch(CallWatch& watch);
    void forget(uint64_t ticket);

private:
    void loop();

    Overdue overdue_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<uint64_t, CallWatch*> watched_;
    uint64_t next_ticket_ = 1;
    bool stopping_ = false;
    std::thread thread_;  // last: started once the rest is there
};

}  // namespace damond
