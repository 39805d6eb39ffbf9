#include "base/task_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace damond {

TaskQueue::TaskQueue() : fd_(checked_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")) {}

TaskQueue::~TaskQueue() = default;

void TaskQueue::post(std::function<void()> fn) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        tasks_.push_back(std::move(fn));
    }
    const uint64_t one = 1;
    (void)!write(fd_.get(), &one, sizeof one);
}

void TaskQueue::drain() {
    uint64_t count;
    (void)!read(fd_.get(), &count, sizeof count);
    std::deque<std::function<void()>> tasks;
    {
        std::lock_guard<std::mutex> lock(mu_);
        tasks.swap(tasks_);
    }
    for (auto& task : tasks) task();
}

}  // namespace damond
