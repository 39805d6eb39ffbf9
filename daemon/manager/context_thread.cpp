#include "manager/context_thread.hpp"

namespace damond {

ContextThread::ContextThread() : queue_(std::make_shared<Queue>()), thread_(loop, queue_) {}

ContextThread::~ContextThread() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard<std::mutex> lock(queue_->mu);
        queue_->stopping = true;
    }
    queue_->cv.notify_one();
    thread_.join();
}

void ContextThread::run(std::function<void()> job) {
    {
        std::lock_guard<std::mutex> lock(queue_->mu);
        queue_->jobs.push_back(std::move(job));
    }
    queue_->cv.notify_one();
}

void ContextThread::abandon(std::unique_ptr<ContextThread> thread, std::function<void()> last) {
    {
        std::lock_guard<std::mutex> lock(thread->queue_->mu);
        thread->queue_->jobs.clear();
        thread->queue_->jobs.push_back(std::move(last));
        thread->queue_->stopping = true;  // after `last`
    }
    thread->queue_->cv.notify_one();
    thread->thread_.detach();
}

void ContextThread::loop(std::shared_ptr<Queue> q) {
    std::unique_lock<std::mutex> lock(q->mu);
    for (;;) {
        q->cv.wait(lock, [&] { return q->stopping || !q->jobs.empty(); });
        if (q->jobs.empty()) return;
        auto job = std::move(q->jobs.front());
        q->jobs.pop_front();
        lock.unlock();
        job();
        job = nullptr;  // what it captured goes here, not under the lock
        lock.lock();
    }
}

}  // namespace damond
