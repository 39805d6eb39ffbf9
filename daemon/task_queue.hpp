// Work handed to the main thread from other threads. The main loop polls
// fd() and calls drain(); everything posted runs there, in order.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

namespace damond {

class TaskQueue {
public:
    TaskQueue();
    ~TaskQueue();
    TaskQueue(const TaskQueue&) = delete;
    TaskQueue& operator=(const TaskQueue&) = delete;

    void post(std::function<void()> fn);
    int fd() const { return fd_; }
    void drain();

private:
    int fd_ = -1;
    std::mutex mu_;
    std::deque<std::function<void()>> tasks_;
};

}  // namespace damond
