#include "manager/call_watchdog.hpp"

#include <utility>
#include <vector>

namespace damond {

namespace {
// How late past its deadline a stuck call may be noticed; deadlines are
// seconds, and looking costs a lock per operation under way.
constexpr auto kLookEvery = std::chrono::milliseconds(50);
}  // namespace

CallWatchdog::CallWatchdog(Overdue overdue) : overdue_(std::move(overdue)), thread_([this] { loop(); }) {}

CallWatchdog::~CallWatchdog() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

uint64_t CallWatchdog::watch(CallWatch& watch) {
    uint64_t ticket;
    bool first;
    {
        std::lock_guard<std::mutex> lock(mu_);
        ticket = next_ticket_++;
        first = watched_.empty();
        watched_[ticket] = &watch;
    }
    if (first) cv_.notify_one();
    return ticket;
}

void CallWatchdog::forget(uint64_t ticket) {
    std::lock_guard<std::mutex> lock(mu_);
    watched_.erase(ticket);
}

void CallWatchdog::loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        // Asleep for good while nothing runs; a look every kLookEvery while something does.
        if (watched_.empty())
            cv_.wait(lock, [&] { return stopping_ || !watched_.empty(); });
        else
            cv_.wait_for(lock, kLookEvery, [&] { return stopping_; });
        if (stopping_) return;
        std::vector<std::pair<uint64_t, std::string>> late;
        const auto now = CallWatch::Clock::now();
        for (auto it = watched_.begin(); it != watched_.end();) {
            std::string error = it->second->overdue(now);
            if (error.empty()) {
                ++it;
                continue;
            }
            late.emplace_back(it->first, std::move(error));
            it = watched_.erase(it);  // reported once
        }
        lock.unlock();
        for (const auto& [ticket, error] : late) overdue_(ticket, error);
        lock.lock();
    }
}

}  // namespace damond
