// What each context's figures were, minute by minute (metrics.history_*):
// the working set and the idle-time p90, and whether it was paused — what an
// operator asks first ("how big was its working set before it went to the
// background?"). Bounded rings, 4 bytes a point: each figure is kept as
// log2(x + 1) in steps of 1/500 (within 0.14 %), the top bit of the first
// saying "paused". 1440 points (a day of minutes) are 5.6 KiB a context.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace damond {

struct HistoryPoint {
    uint64_t unix_us = 0;  // when it was taken (CLOCK_REALTIME)
    uint64_t working_set_bytes = 0;
    uint64_t idle_p90_us = 0;
    bool paused = false;
};

class FigureHistory {
public:
    // `points`: the most kept per context (0: no history); `step_us`: how
    // often record() is called.
    FigureHistory(size_t points = 1440, uint64_t step_us = 60000000) : capacity_(points), step_us_(step_us) {}

    // A point for `context` at `unix_us`. Points are one step apart: a
    // longer gap (damond was stopped) is kept as missing points.
    void record(const std::string& context, uint64_t unix_us, uint64_t working_set_bytes, uint64_t idle_p90_us,
                bool paused);
    void forget(const std::string& context) { rings_.erase(context); }
    // Oldest first; missing points are left out.
    std::vector<HistoryPoint> points(const std::string& context) const;
    bool has(const std::string& context) const { return rings_.count(context) != 0; }
    size_t capacity() const { return capacity_; }
    uint64_t step_us() const { return step_us_; }
    // A new capacity or step: rings are cut to the new capacity; a new step
    // starts every ring afresh (its points would be misplaced).
    void configure(size_t points, uint64_t step_us);

    // A compact file for the state directory; load() takes it back and
    // returns "" or why not (then nothing is taken).
    std::string serialize() const;
    std::string load(const std::string& bytes);

    static uint16_t encode(uint64_t value);
    static uint64_t decode(uint16_t code);

private:
    struct Ring {
        uint64_t last_unix_us = 0;    // of the newest point
        std::deque<uint32_t> points;  // oldest first; kMissing for a gap
    };
    static constexpr uint32_t kMissing = 0xFFFFFFFF;
    size_t capacity_;
    uint64_t step_us_;
    std::map<std::string, Ring> rings_;
};

}  // namespace damond
