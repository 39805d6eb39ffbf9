#include "task_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace damond {

TaskQueue::TaskQueue() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + strerror(errno));
}

TaskQueue::~TaskQueue() { close(fd_); }

void TaskQueue::post(std::function<void()> fn) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        tasks_.push_back(std::move(fn));
    }
    const uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
}

void TaskQueue::drain() {
    uint64_t count;
    (void)!read(fd_, &count, sizeof count);
    std::deque<std::function<void()>> tasks;
    {
        std::lock_guard<std::mutex> lock(mu_);
        tasks.swap(tasks_);
    }
    for (auto& task : tasks) task();
}

}  // namespace damond
