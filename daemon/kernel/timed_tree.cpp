#include "kernel/timed_tree.hpp"

#include <cerrno>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <algorithm>

namespace damond {

// Shared by the tree and its thread, so that a thread left behind in the
// kernel still has somewhere to put its result when (if) it returns.
struct TimedTree::Io {
    std::mutex mu;
    std::condition_variable cv;
    std::function<void()> job;  // pending, or running while busy
    bool busy = false;
    bool done = false;
    bool quit = false;
    std::exception_ptr error;
    // Results live here, not on the caller's stack: a call left behind
    // may still write them after its caller has gone.
    bool flag = false;
    std::string text;
    std::vector<std::string> names;

    static void loop(std::shared_ptr<Io> io) {
        std::unique_lock<std::mutex> lock(io->mu);
        for (;;) {
            io->cv.wait(lock, [&] { return io->quit || (io->busy && !io->done); });
            if (io->quit) return;
            auto job = io->job;
            lock.unlock();
            std::exception_ptr error;
            try {
                job();
            } catch (...) {
                error = std::current_exception();
            }
            lock.lock();
            io->error = error;
            io->done = true;
            io->cv.notify_all();
        }
    }
};

TimedTree::TimedTree(SysfsTree& inner, std::chrono::milliseconds deadline) : inner_(inner), deadline_(deadline) {}

TimedTree::~TimedTree() {
    if (!io_) return;
    std::lock_guard<std::mutex> lock(io_->mu);
    io_->quit = true;
    io_->cv.notify_all();
}

void TimedTree::call(const std::string& path, const char* what, std::function<void(SysfsTree&, Io&)> fn) const {
    // EBUSY is the DAMON sysfs lock held by another writer (a state command
    // waits for its kdamond with it held, up to a sampling interval, or a
    // deep pause's second): tried again until the deadline.
    const auto until = std::chrono::steady_clock::now() + deadline_;
    for (auto backoff = std::chrono::milliseconds(1);; backoff = std::min(backoff * 2, std::chrono::milliseconds(20))) {
        // A retry begun just before the deadline still gets a quarter of it
        // to answer: on a loaded machine an EBUSY that answers slowly is
        // EBUSY, not a hang (the whole call is bounded by 1.25 deadlines).
        const auto attempt_until = std::max(until, std::chrono::steady_clock::now() + deadline_ / 4);
        try {
            call_once(path, what, fn, attempt_until);
            return;
        } catch (const SysfsError& e) {
            if (e.code().value() != EBUSY || std::chrono::steady_clock::now() + backoff >= until) throw;
        }
        std::this_thread::sleep_for(backoff);
    }
}

void TimedTree::call_once(const std::string& path, const char* what, const std::function<void(SysfsTree&, Io&)>& fn,
                          std::chrono::steady_clock::time_point until) const {
    if (!io_) {
        io_ = std::make_shared<Io>();
        std::thread(Io::loop, io_).detach();  // ends on quit; never joined, as it may be stuck
    }
    std::shared_ptr<Io> io = io_;
    std::unique_lock<std::mutex> lock(io->mu);
    SysfsTree& inner = inner_;
    Io* slot = io.get();
    io->job = [&inner, slot, fn] { fn(inner, *slot); };
    io->busy = true;
    io->done = false;
    io->error = nullptr;
    io->cv.notify_all();
    if (!io->cv.wait_until(lock, until, [&] { return io->done; })) {
        // The thread stays in the kernel; it quits when (if) it comes back.
        io->quit = true;
        io_.reset();
        ++stuck_;
        throw SysfsError(ETIMEDOUT, path,
                         std::string(what) + " did not return within " + std::to_string(deadline_.count()) + " ms:");
    }
    io->busy = false;
    if (io->error) std::rethrow_exception(io->error);
    result_ = io;
}

bool TimedTree::exists(const std::string& path) const {
    call(path, "stat", [path](SysfsTree& t, Io& io) { io.flag = t.exists(path); });
    return result_->flag;
}

bool TimedTree::is_dir(const std::string& path) const {
    call(path, "stat", [path](SysfsTree& t, Io& io) { io.flag = t.is_dir(path); });
    return result_->flag;
}

bool TimedTree::writable(const std::string& path) const {
    call(path, "stat", [path](SysfsTree& t, Io& io) { io.flag = t.writable(path); });
    return result_->flag;
}

std::string TimedTree::read(const std::string& path) const {
    call(path, "reading", [path](SysfsTree& t, Io& io) { io.text = t.read(path); });
    return result_->text;
}

void TimedTree::write(const std::string& path, const std::string& value) {
    call(path, ("writing '" + value + "' to").c_str(), [path, value](SysfsTree& t, Io&) { t.write(path, value); });
}

std::vector<std::string> TimedTree::list(const std::string& dir) const {
    call(dir, "listing", [dir](SysfsTree& t, Io& io) { io.names = t.list(dir); });
    return result_->names;
}

}  // namespace damond
