#include "monitor/scheduler_thread.hpp"

#include <chrono>
#include <exception>
#include <future>

#include "base/after_call.hpp"

namespace damond {

SchedulerThread::SchedulerThread(const Clock& clock) : clock_(clock) {
    thread_ = std::thread([this] { loop(); });
    owner_ = thread_.get_id();
}

SchedulerThread::~SchedulerThread() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

uint64_t SchedulerThread::wakeups() const {
    std::lock_guard<std::mutex> lock(mu_);
    return wakeups_;
}

void SchedulerThread::run_sync(const std::function<void()>& fn) {
    if (std::this_thread::get_id() == owner_) {
        fn();
        return;
    }
    std::promise<void> done;
    auto result = done.get_future();
    {
        std::lock_guard<std::mutex> lock(mu_);
        tasks_.push_back([&] {
            try {
                fn();
                done.set_value();
            } catch (...) {
                done.set_exception(std::current_exception());
            }
        });
    }
    cv_.notify_one();
    result.get();
}

void SchedulerThread::post(std::function<void()> fn) {
    if (std::this_thread::get_id() == owner_) {
        fn();
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        tasks_.push_back(std::move(fn));
    }
    // Woken once the bus call handing it over is answered (at once outside
    // one); a run_sync meanwhile wakes it and it runs this first.
    after_call([this] { cv_.notify_one(); });
}

void SchedulerThread::loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        // Work handed over first, then every deadline that is due; both run
        // without the lock so other threads can keep handing work over.
        while (!tasks_.empty()) {
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
        if (stopping_) return;
        lock.unlock();
        scheduler_.run_due(clock_.now_us());
        const auto next = scheduler_.next_deadline();
        const uint64_t now = clock_.now_us();
        lock.lock();
        if (!tasks_.empty() || stopping_) continue;
        if (!next) {
            cv_.wait(lock, [&] { return !tasks_.empty() || stopping_; });
        } else if (*next > now) {
            cv_.wait_for(lock, std::chrono::microseconds(*next - now), [&] { return !tasks_.empty() || stopping_; });
        }
        ++wakeups_;
    }
}

}  // namespace damond
