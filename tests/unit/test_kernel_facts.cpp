// KernelFacts: the Manager's view of the kernel's tree, looked at off the
// main loop. One look serves the Gets that come within its freshness (a
// GetAll asks four times), a stale view is looked at afresh, and a look
// stuck in the kernel never holds a Get longer than the wait.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "kernel/kernel_facts.hpp"

namespace damond {
namespace {

using namespace std::chrono_literals;

KernelProbe probe_with(uint32_t kdamonds) {
    KernelProbe p;
    p.present = true;
    for (uint32_t i = 0; i < kdamonds; ++i) {
        KdamondInfo k;
        k.index = i;
        p.kdamonds.push_back(k);
    }
    return p;
}

TEST(KernelFacts, OneLookServesTheGetsWithinItsFreshness) {
    std::atomic<int> looks{0};
    KernelFacts facts([&] { return probe_with(++looks); }, 1000ms, 10s, probe_with(0));
    // The start-up look is not fresh: the first Get looks.
    EXPECT_EQ(facts.get().kdamonds.size(), 1u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(facts.get().kdamonds.size(), 1u);
    EXPECT_EQ(looks.load(), 1);
}

TEST(KernelFacts, AStaleViewIsLookedAtAfresh) {
    std::atomic<int> looks{0};
    KernelFacts facts([&] { return probe_with(++looks); }, 1000ms, 20ms, probe_with(0));
    EXPECT_EQ(facts.get().kdamonds.size(), 1u);
    std::this_thread::sleep_for(40ms);
    EXPECT_EQ(facts.get().kdamonds.size(), 2u);
    EXPECT_EQ(looks.load(), 2);
}

TEST(KernelFacts, AStuckLookAnswersWithTheLastViewAfterTheWait) {
    // Shared with the look's thread, which may outlive this test.
    auto stuck = std::make_shared<std::atomic<bool>>(true);
    KernelFacts facts(
        [stuck] {
            while (*stuck) std::this_thread::sleep_for(1ms);
            return probe_with(3);
        },
        30ms, 50ms, probe_with(7));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(facts.get().kdamonds.size(), 7u);  // the start-up look
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 30ms);
    *stuck = false;
    // The look that was stuck completes; a Get now has it.
    bool fresh = false;
    for (int i = 0; i < 200 && !fresh; ++i) {
        fresh = facts.get().kdamonds.size() == 3u;
        if (!fresh) std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(fresh);
}

}  // namespace
}  // namespace damond
