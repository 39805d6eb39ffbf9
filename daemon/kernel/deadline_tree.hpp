// A deadline on every read and write of the kernel's tree, kept without a
// thread of its own. The calling thread (its context's) makes the call and
// tells the context's CallWatch what it is doing until when; the owner of
// the deadline, the manager's context runner, gives the thread up when a
// call outlives it (some kernels never return from some sysfs writes, a
// read can wait behind the kernel's DAMON lock). After that every call
// throws SysfsError(ETIMEDOUT) at once, so an operation that comes back
// from the kernel unwinds without writing more. EBUSY (the DAMON sysfs
// lock held by another writer) is tried again here until the deadline.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "kernel/sysfs_tree.hpp"
#include "monitor/call_trace.hpp"
#include "monitor/call_watch.hpp"

namespace damond {

class DeadlineTree : public SysfsTree {
public:
    // `who` starts each call's description ("kdamond 3"). `trace`, if
    // given, hears of every call that returned.
    DeadlineTree(SysfsTree& inner, std::chrono::milliseconds deadline, CallWatch& watch, std::string who,
                 CallTrace* trace = nullptr);

    std::chrono::milliseconds deadline() const { return deadline_; }

    bool exists(const std::string& path) const override;
    bool is_dir(const std::string& path) const override;
    bool writable(const std::string& path) const override;
    std::string read(const std::string& path) const override;
    void write(const std::string& path, const std::string& value) override;
    std::vector<std::string> list(const std::string& dir) const override;

private:
    // `what` says the call as a sentence's start ("writing 'Y' to FILE").
    // `busy` counts the EBUSY answers tried again.
    template <class Fn>
    auto call(const std::string& path, const std::string& what, Fn fn, int* busy = nullptr) const -> decltype(fn());
    template <class Fn>
    auto timed_read(const std::string& path, const std::string& what, Fn fn) const -> decltype(fn());

    SysfsTree& inner_;
    std::chrono::milliseconds deadline_;
    CallWatch& watch_;
    std::string who_;
    CallTrace* trace_;
};

}  // namespace damond
