// Work handed to the main thread from other threads. The main loop polls
// fd() and calls drain(); everything posted runs there, in order.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

#include "base/unique_fd.hpp"

namespace damond {

class TaskQueue {
public:
    TaskQueue();
    ~TaskQueue();
    TaskQueue(const TaskQueue&) = delete;
    TaskQueue& operator=(const TaskQueue&) = delete;

    void post(std::function<void()> fn);
    int fd() const { return fd_.get(); }
    void drain();

private:
    UniqueFd fd_;
    std::mutex mu_;
    std::deque<std::function<void()>> tasks_;
};

}  // namespace damond
