#include "monitor/call_trace.hpp"

#include <cstdio>

namespace damond {

namespace {

std::string ms(CallTrace::Duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", std::chrono::duration<double, std::milli>(d).count());
    return buf;
}

}  // namespace

void CallTrace::clear() {
    writes_.clear();
    reads_ = 0;
    read_time_ = {};
}

void CallTrace::wrote(std::string file, std::string value, Duration took, int busy) {
    writes_.push_back({std::move(file), std::move(value), took, busy});
}

void CallTrace::read(Duration took) {
    ++reads_;
    read_time_ += took;
}

std::string CallTrace::text() const {
    // The writes that make the kernel act are named one by one (state: a
    // command the kdamond takes; pause); the files staged before a command
    // are counted and summed, as the reads are.
    std::string out;
    int staged = 0;
    Duration staged_time{};
    for (const Write& w : writes_) {
        if (w.file != "state" && w.file != "pause" && !w.busy) {
            ++staged;
            staged_time += w.took;
            continue;
        }
        if (!out.empty()) out += ", ";
        out += w.file + "=" + w.value + " " + ms(w.took);
        if (w.busy) out += " (EBUSY x" + std::to_string(w.busy) + ")";
    }
    if (staged) out += (out.empty() ? "" : "; ") + std::to_string(staged) + " files staged " + ms(staged_time);
    if (reads_) out += (out.empty() ? "" : "; ") + std::to_string(reads_) + " reads " + ms(read_time_);
    return out;
}

}  // namespace damond
