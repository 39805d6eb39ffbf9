#include "kernel/deadline_tree.hpp"

#include <algorithm>
#include <cerrno>
#include <thread>

namespace damond {

DeadlineTree::DeadlineTree(SysfsTree& inner, std::chrono::milliseconds deadline, CallWatch& watch, std::string who,
                           CallTrace* trace)
    : inner_(inner), deadline_(deadline), watch_(watch), who_(std::move(who)), trace_(trace) {}

template <class Fn>
auto DeadlineTree::call(const std::string& path, const std::string& what, Fn fn, int* busy) const -> decltype(fn()) {
    const std::string overdue =
        who_ + ": " + what + " did not return within " + std::to_string(deadline_.count()) + " ms";
    const auto until = CallWatch::Clock::now() + deadline_;
    for (auto backoff = std::chrono::milliseconds(1);; backoff = std::min(backoff * 2, std::chrono::milliseconds(20))) {
        // Given up by the runner: this thread is on its own now.
        if (watch_.given_up()) throw SysfsError(ETIMEDOUT, path, "given up after a call that did not return in time:");
        // A retry begun just before the deadline still gets a quarter of it
        // to answer: on a loaded machine an EBUSY that answers slowly is
        // EBUSY, not a hang (the whole call is bounded by 1.25 deadlines).
        watch_.begin(overdue, std::max(until, CallWatch::Clock::now() + deadline_ / 4));
        struct Ended {
            CallWatch& w;
            ~Ended() { w.end(); }
        } ended{watch_};
        try {
            return fn();
        } catch (const SysfsError& e) {
            if (e.code().value() != EBUSY || CallWatch::Clock::now() + backoff >= until) throw;
        }
        if (busy) ++*busy;
        std::this_thread::sleep_for(backoff);
    }
}

template <class Fn>
auto DeadlineTree::timed_read(const std::string& path, const std::string& what, Fn fn) const -> decltype(fn()) {
    const auto t0 = CallWatch::Clock::now();
    auto out = call(path, what, fn);
    if (trace_) trace_->read(CallWatch::Clock::now() - t0);
    return out;
}

bool DeadlineTree::exists(const std::string& path) const {
    return timed_read(path, "looking up " + path, [&] { return inner_.exists(path); });
}

bool DeadlineTree::is_dir(const std::string& path) const {
    return timed_read(path, "looking up " + path, [&] { return inner_.is_dir(path); });
}

bool DeadlineTree::writable(const std::string& path) const {
    return timed_read(path, "looking up " + path, [&] { return inner_.writable(path); });
}

std::string DeadlineTree::read(const std::string& path) const {
    return timed_read(path, "reading " + path, [&] { return inner_.read(path); });
}

void DeadlineTree::write(const std::string& path, const std::string& value) {
    const auto t0 = CallWatch::Clock::now();
    int busy = 0;
    call(
        path, "writing '" + value + "' to " + path, [&] { inner_.write(path, value); }, &busy);
    if (trace_) trace_->wrote(path.substr(path.rfind('/') + 1), value, CallWatch::Clock::now() - t0, busy);
}

std::vector<std::string> DeadlineTree::list(const std::string& dir) const {
    return timed_read(dir, "listing " + dir, [&] { return inner_.list(dir); });
}

}  // namespace damond
