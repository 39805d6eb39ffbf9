#pragma once

#include <cstdint>
#include <ctime>

namespace damond {

// Time in microseconds. Handed to whatever needs it, so tests can use a
// virtual clock.
class Clock {
public:
    virtual ~Clock() = default;
    virtual uint64_t now_us() const = 0;
};

class MonotonicClock : public Clock {
public:
    uint64_t now_us() const override {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
    }
};

class ManualClock : public Clock {
public:
    uint64_t now_us() const override { return now_; }
    void set(uint64_t now) { now_ = now; }
    void advance(uint64_t us) { now_ += us; }

private:
    uint64_t now_ = 0;
};

}  // namespace damond
