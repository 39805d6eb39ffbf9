// A thread of one context's own, for the monitor calls that may block (the
// kernel's sysfs writes), so that the manager's thread and the bus keep
// going meanwhile. Calls run one at a time, in order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace damond {

class OpWorker {
public:
    OpWorker() : thread_([this] { loop(); }) {}
    ~OpWorker() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stopping_ = true;
        }
        cv_.notify_one();
        thread_.join();  // a call in progress ends by its own deadline
    }
    OpWorker(const OpWorker&) = delete;
    OpWorker& operator=(const OpWorker&) = delete;

    void run(std::function<void()> fn) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            queue_.push_back(std::move(fn));
        }
        cv_.notify_one();
    }

private:
    void loop() {
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            auto fn = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            fn();
            lock.lock();
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace damond
