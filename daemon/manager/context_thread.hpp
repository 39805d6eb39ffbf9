// The one thread of a context whose monitor blocks (the kernel's): its
// operations run there one at a time, in order, while the manager's thread
// and the bus go on. The thread makes the sysfs calls itself; their
// deadline is the context runner's, which gives the thread up when a call
// outlives it (abandon()).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace damond {

class ContextThread {
public:
    ContextThread();
    // Waits for the job under way: only for a thread not given up.
    ~ContextThread();
    ContextThread(const ContextThread&) = delete;
    ContextThread& operator=(const ContextThread&) = delete;

    void run(std::function<void()> job);
    // Leaves the thread to itself, stuck in its job: the jobs queued behind
    // are dropped, `last` runs when (if) the job returns (to end what it
    // used), and then the thread ends.
    static void abandon(std::unique_ptr<ContextThread> thread, std::function<void()> last);

private:
    // Shared with the thread, which may outlive this object once given up.
    struct Queue {
        std::mutex mu;
        std::condition_variable cv;
        std::deque<std::function<void()>> jobs;
        bool stopping = false;
    };
    static void loop(std::shared_ptr<Queue> q);

    std::shared_ptr<Queue> queue_;
    std::thread thread_;
};

}  // namespace damond
