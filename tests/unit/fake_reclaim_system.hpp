// A ReclaimSystem for tests: swap as the test sets it, and every page-out
// recorded (held while `hold` is set, to catch a reclaim in the middle).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "manager/reclaim_system.hpp"

namespace damond::testing {

class FakeReclaimSystem : public ReclaimSystem {
public:
    Swap swap() override { return swap_; }
    uint64_t page_out(uint32_t pid, uint64_t start_time, const std::vector<ReclaimRange>& ranges) override {
        std::unique_lock<std::mutex> lock(mu);
        calls.push_back({pid, ranges});
        start_times.push_back(start_time);
        ++waiting;
        cv.notify_all();
        cv.wait(lock, [&] { return !hold; });
        --waiting;
        uint64_t bytes = 0;
        for (const ReclaimRange& r : ranges) bytes += r.end - r.start;
        return bytes;
    }
    std::optional<uint64_t> major_faults(uint32_t) override { return faults.load(); }
    void set_frozen(const std::string& cgroup, bool frozen) override {
        std::lock_guard<std::mutex> lock(mu);
        freezes.emplace_back(cgroup, frozen);
    }
    std::vector<ReclaimRange> anonymous(uint32_t) override {
        std::lock_guard<std::mutex> lock(mu);
        return anon;
    }
    uint64_t page_size() override { return 4096; }

    Swap swap_{8ULL << 30, 8ULL << 30};
    std::vector<ReclaimRange> anon{{0, 1ULL << 40, 0}};  // all of it, unless a test says otherwise
    std::atomic<uint64_t> faults{0};
    std::mutex mu;
    std::condition_variable cv;
    bool hold = false;
    int waiting = 0;
    std::vector<std::pair<uint32_t, std::vector<ReclaimRange>>> calls;
    std::vector<uint64_t> start_times;  // of each call
    std::vector<std::pair<std::string, bool>> freezes;
    uint64_t paged() {
        std::lock_guard<std::mutex> lock(mu);
        uint64_t bytes = 0;
        for (const auto& c : calls)
            for (const ReclaimRange& r : c.second) bytes += r.end - r.start;
        return bytes;
    }
};

}  // namespace damond::testing
