// The main loop's queue for tests of the manager's asynchronous paths.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "manager/manager.hpp"

namespace damond::testing {

// The main loop's queue, for tests of the asynchronous paths: post() is
// the Manager's Poster (any thread), turn() runs what was handed back, and
// until() turns the loop until `pred` holds (about 4 s at most).
class LoopQueue {
public:
    Poster poster() {
        return [this](std::function<void()> fn) {
            std::lock_guard<std::mutex> lock(mu_);
            posted_.push_back(std::move(fn));
        };
    }
    bool turn() {
        std::vector<std::function<void()>> now;
        {
            std::lock_guard<std::mutex> lock(mu_);
            now.swap(posted_);
        }
        for (auto& fn : now) fn();
        return !now.empty();
    }
    // A turn for ManagerForms: what was handed back, or a short sleep.
    void turn_or_wait() {
        if (!turn()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    bool until(const std::function<bool()>& pred) {
        for (int i = 0; i < 2000 && !pred(); ++i)
            if (!turn()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return pred();
    }

private:
    std::mutex mu_;
    std::vector<std::function<void()>> posted_;
};

}  // namespace damond::testing
