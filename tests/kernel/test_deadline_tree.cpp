// The deadline on every sysfs access (told to the CallWatch, kept by the
// context runner), and EBUSY tried again within it.
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "kernel/deadline_tree.hpp"

using namespace damond;
using namespace std::chrono_literals;

namespace {

// Answers from a script: how many EBUSYs before a write succeeds, and
// whether a read of "hang" never returns (until released).
class ScriptedTree : public SysfsTree {
public:
    int busy_left = 0;
    int writes = 0;
    bool exists(const std::string&) const override { return true; }
    bool is_dir(const std::string&) const override { return false; }
    bool writable(const std::string&) const override { return true; }
    std::string read(const std::string& path) const override {
        if (path == "hang") {
            std::unique_lock<std::mutex> lock(mu_);
            hanging_ = true;
            cv_.notify_all();
            cv_.wait(lock, [&] { return released_; });
        }
        return "value of " + path;
    }
    void write(const std::string& path, const std::string&) override {
        ++writes;
        if (busy_left > 0) {
            --busy_left;
            throw SysfsError(EBUSY, path, "cannot write to");
        }
    }
    std::vector<std::string> list(const std::string&) const override { return {}; }
    void release() {
        std::lock_guard<std::mutex> lock(mu_);
        released_ = true;
        cv_.notify_all();
    }
    // Until a read of "hang" has begun.
    void wait_hanging() const {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return hanging_; });
    }

private:
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    bool released_ = false;
    mutable bool hanging_ = false;
};

int errno_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const SysfsError& e) {
        return e.code().value();
    }
    return 0;
}

}  // namespace
TEST(DeadlineTree, PassesCallsThrough) {
    ScriptedTree inner;
    CallWatch watch;
    DeadlineTree t(inner, 1000ms, watch, "kdamond 3");
    EXPECT_EQ(t.read("a/b"), "value of a/b");
    t.write("a/b", "1");
    EXPECT_EQ(inner.writes, 1);
    EXPECT_EQ(watch.overdue(CallWatch::Clock::now() + 1h), "");  // no call under way
}

TEST(DeadlineTree, EbusyIsTriedAgainWithinTheDeadline) {
    ScriptedTree inner;
    inner.busy_left = 3;
    CallWatch watch;
    DeadlineTree t(inner, 1000ms, watch, "kdamond 1");
    t.write("kdamonds/1/contexts/0/targets/nr_targets", "1");
    EXPECT_EQ(inner.writes, 4);
}

TEST(DeadlineTree, EbusyPastTheDeadlineIsTheCallersError) {
    ScriptedTree inner;
    inner.busy_left = 1000000;
    CallWatch watch;
    DeadlineTree t(inner, 100ms, watch, "kdamond 0");
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(errno_of([&] { t.write("x", "1"); }), EBUSY);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 300ms);
}

// A call that does not return: the watch says so, as a sentence naming the
// file, once its deadline has passed (not before); given up, the thread's
// next call fails at once instead of writing on.
TEST(DeadlineTree, AHungCallIsOverdueAfterTheDeadlineAndGivenUpTheThreadStops) {
    ScriptedTree inner;
    CallWatch watch;
    // Long enough that a busy machine does not pass it before the first check.
    DeadlineTree t(inner, 2000ms, watch, "kdamond 3");
    std::string after_release;
    int after_errno = 0;
    std::thread stuck([&] {
        t.read("hang");
        after_errno = errno_of([&] { after_release = t.read("next"); });
    });
    inner.wait_hanging();  // (a busy machine may start the thread late)
    EXPECT_EQ(watch.overdue(CallWatch::Clock::now()), "");
    EXPECT_EQ(watch.overdue(CallWatch::Clock::now() + 2500ms), "kdamond 3: reading hang did not return within 2000 ms");
    watch.give_up();
    inner.release();
    stuck.join();
    EXPECT_EQ(after_errno, ETIMEDOUT);
    EXPECT_EQ(after_release, "");
}

// Where an operation's time went: each write with its file, value and the
// EBUSY answers tried again; the reads counted and summed; cleared for the
// next operation.
TEST(DeadlineTree, TellsTheTraceWhereTheTimeWent) {
    ScriptedTree inner;
    CallWatch watch;
    CallTrace trace;
    DeadlineTree tree(inner, 2s, watch, "kdamond 3", &trace);
    EXPECT_EQ(trace.text(), "");
    inner.busy_left = 2;
    tree.write("kdamonds/3/state", "commit");
    tree.write("kdamonds/3/contexts/0/pause", "N");
    tree.write("kdamonds/3/contexts/0/monitoring_attrs/intervals/sample_us", "5000");
    tree.write("kdamonds/3/contexts/0/monitoring_attrs/intervals/aggr_us", "100000");
    (void)tree.read("a");
    (void)tree.exists("b");
    const std::string text = trace.text();
    EXPECT_EQ(text.rfind("state=commit ", 0), 0u) << text;
    EXPECT_NE(text.find(" ms (EBUSY x2), pause=N "), std::string::npos) << text;
    EXPECT_NE(text.find(" ms; 2 files staged "), std::string::npos) << text;
    EXPECT_NE(text.find(" ms; 2 reads "), std::string::npos) << text;
    // A write that fails is the error's to tell, not the trace's.
    inner.busy_left = 1000000;
    DeadlineTree short_tree(inner, 30ms, watch, "kdamond 3", &trace);
    trace.clear();
    EXPECT_EQ(errno_of([&] { short_tree.write("kdamonds/3/state", "on"); }), EBUSY);
    EXPECT_EQ(trace.text(), "");
}
