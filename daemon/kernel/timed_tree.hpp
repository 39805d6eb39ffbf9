// A deadline on every read and write of the kernel's tree. Some kernels
// never return from some sysfs writes (a commit to a parked 6.12 kdamond),
// and a read can block behind the kernel's DAMON lock: each call runs on an
// I/O thread of this tree's own while the caller waits at most `deadline`.
// A call that misses it throws SysfsError(ETIMEDOUT) naming the file; the
// I/O thread stuck in the kernel is left behind, and the next call gets a
// fresh one. EBUSY (the kernel's DAMON sysfs lock, held by another
// writer) is tried again until the deadline. Calls from one caller at a
// time (a kernel context's worker).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "kernel/sysfs_tree.hpp"

namespace damond {

class TimedTree : public SysfsTree {
public:
    TimedTree(SysfsTree& inner, std::chrono::milliseconds deadline);
    ~TimedTree() override;
    TimedTree(const TimedTree&) = delete;
    TimedTree& operator=(const TimedTree&) = delete;

    std::chrono::milliseconds deadline() const { return deadline_; }
    // How many calls missed the deadline so far (their threads are stuck).
    unsigned stuck_calls() const { return stuck_; }

    bool exists(const std::string& path) const override;
    bool is_dir(const std::string& path) const override;
    bool writable(const std::string& path) const override;
    std::string read(const std::string& path) const override;
    void write(const std::string& path, const std::string& value) override;
    std::vector<std::string> list(const std::string& dir) const override;

    struct Io;  // the I/O thread and its one request slot

private:
    // Runs fn on the I/O thread; throws SysfsError(ETIMEDOUT) for `path`
    // when it does not return in time, or what fn threw.
    void call(const std::string& path, const char* what, std::function<void(SysfsTree&, Io&)> fn) const;
    void call_once(const std::string& path, const char* what, const std::function<void(SysfsTree&, Io&)>& fn,
                   std::chrono::steady_clock::time_point until) const;

    SysfsTree& inner_;
    std::chrono::milliseconds deadline_;
    mutable std::shared_ptr<Io> io_;
    mutable std::shared_ptr<Io> result_;  // the last call's, read by its caller
    mutable unsigned stuck_ = 0;
};

}  // namespace damond
