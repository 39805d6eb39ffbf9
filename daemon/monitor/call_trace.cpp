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
    std::string out;
    for (const Write& w : writes_) {
        if (!out.empty()) out += ", ";
        out += w.file + "=" + w.value + " " + ms(w.took);
        if (w.busy) out += " (EBUSY x" + std::to_string(w.busy) + ")";
    }
    if (reads_) out += (out.empty() ? "" : "; ") + std::to_string(reads_) + " reads " + ms(read_time_);
    return out;
}

}  // namespace damond
