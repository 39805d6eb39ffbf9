#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "base/after_call.hpp"
#include "monitor/scheduler_thread.hpp"

using namespace damond;

namespace {
bool wait_until_true(const std::atomic<bool>& flag) {
    for (int i = 0; i < 400 && !flag; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return flag;
}
}  // namespace

TEST(Scheduler, RunsDueCallbacksInDeadlineOrderAndSkipsCancelled) {
    Scheduler s;
    std::vector<int> ran;
    s.schedule_at(30, [&] { ran.push_back(3); });
    const auto cancelled = s.schedule_at(20, [&] { ran.push_back(99); });
    s.schedule_at(10, [&] { ran.push_back(1); });
    s.schedule_at(10, [&] { ran.push_back(2); });  // same deadline: scheduling order
    s.cancel(cancelled);
    EXPECT_EQ(s.next_deadline(), 10u);
    EXPECT_EQ(s.run_due(25), 2u);
    EXPECT_EQ(ran, (std::vector<int>{1, 2}));
    EXPECT_EQ(s.run_due(30), 1u);
    EXPECT_FALSE(s.next_deadline());
}

TEST(Scheduler, CallbacksMayReschedule) {
    Scheduler s;
    int n = 0;
    std::function<void()> tick = [&] {
        if (++n < 3) s.schedule_at(5, tick);
    };
    s.schedule_at(5, tick);
    s.run_due(5);
    EXPECT_EQ(n, 3);
}

TEST(SchedulerThread, RunSyncRunsOnTheThreadAndPropagatesErrors) {
    MonotonicClock clock;
    SchedulerThread t(clock);
    std::thread::id where;
    t.run_sync([&] { where = std::this_thread::get_id(); });
    EXPECT_NE(where, std::this_thread::get_id());
    EXPECT_THROW(t.run_sync([] { throw std::runtime_error("x"); }), std::runtime_error);
    int nested = 0;
    t.run_sync([&] { t.run_sync([&] { nested = 1; }); });  // no deadlock from its own thread
    EXPECT_EQ(nested, 1);
}

TEST(SchedulerThread, FiresDeadlinesAndSleepsWithoutThem) {
    MonotonicClock clock;
    SchedulerThread t(clock);
    std::atomic<int> fired{0};
    t.run_sync([&] { t.scheduler().schedule_at(clock.now_us() + 20000, [&] { fired++; }); });
    for (int i = 0; i < 200 && fired == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(fired, 1);

    // Nothing scheduled: the thread must not wake up on its own.
    const uint64_t before = t.wakeups();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(t.wakeups(), before);
}

TEST(SchedulerThread, PostReturnsAtOnceAndRunsInOrderWithRunSync) {
    MonotonicClock clock;
    SchedulerThread t(clock);
    std::promise<void> go;
    std::shared_future<void> gate = go.get_future().share();
    std::vector<int> ran;
    t.post([gate] { gate.wait(); });                                      // the thread is busy until `go`
    for (int i = 0; i < 5; ++i) t.post([&ran, i] { ran.push_back(i); });  // returns while it is busy
    go.set_value();
    std::vector<int> seen;
    t.run_sync([&] { seen = ran; });  // after everything posted before it
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
    std::thread::id where;
    t.run_sync([&] { t.post([&] { where = std::this_thread::get_id(); }); });  // from its own thread: at once
    EXPECT_NE(where, std::thread::id());
}

TEST(SchedulerThread, AWakeUpInsideABusCallWaitsForItsEnd) {
    MonotonicClock clock;
    SchedulerThread t(clock);
    std::atomic<bool> ran{false};
    t.run_sync([] {});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // asleep now, with nothing due
    {
        AfterCall call;
        t.post([&] { ran = true; });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_FALSE(ran);  // queued, the thread still asleep
    }
    EXPECT_TRUE(wait_until_true(ran));
    {
        AfterCall call;
        bool seen = false;
        t.post([&] { ran = false; });
        t.run_sync([&] { seen = !ran; });  // a run_sync wakes it: what was posted runs first
        EXPECT_TRUE(seen);
    }
}
