// The deadline on every sysfs access, and EBUSY tried again within it.
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "kernel/timed_tree.hpp"

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

private:
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    bool released_ = false;
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

TEST(TimedTree, PassesCallsThrough) {
    ScriptedTree inner;
    TimedTree t(inner, 1000ms);
    EXPECT_EQ(t.read("a/b"), "value of a/b");
    t.write("a/b", "1");
    EXPECT_EQ(inner.writes, 1);
}

TEST(TimedTree, EbusyIsTriedAgainWithinTheDeadline) {
    ScriptedTree inner;
    inner.busy_left = 3;
    TimedTree t(inner, 1000ms);
    t.write("kdamonds/1/contexts/0/targets/nr_targets", "1");
    EXPECT_EQ(inner.writes, 4);
}

TEST(TimedTree, EbusyPastTheDeadlineIsTheCallersError) {
    ScriptedTree inner;
    inner.busy_left = 1000000;
    TimedTree t(inner, 100ms);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(errno_of([&] { t.write("x", "1"); }), EBUSY);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 300ms);
}

TEST(TimedTree, AHungCallFailsAfterTheDeadlineNamingTheFileAndTheNextOneWorks) {
    ScriptedTree inner;
    TimedTree t(inner, 150ms);
    const auto t0 = std::chrono::steady_clock::now();
    try {
        t.read("hang");
        FAIL() << "returned";
    } catch (const SysfsError& e) {
        EXPECT_EQ(e.code().value(), ETIMEDOUT);
        EXPECT_EQ(e.path(), "hang");
        EXPECT_NE(std::string(e.what()).find("reading did not return within 150 ms"), std::string::npos) << e.what();
    }
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
    EXPECT_EQ(t.stuck_calls(), 1u);
    EXPECT_EQ(t.read("other"), "value of other");  // on a fresh I/O thread
    inner.release();  // the stuck one returns into its own slot, not ours
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(t.read("again"), "value of again");
}
