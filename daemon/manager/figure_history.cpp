#include "manager/figure_history.hpp"

#include <cmath>
#include <cstring>

namespace damond {

namespace {

constexpr double kStepsPerDoubling = 500;
constexpr uint32_t kPausedBit = 0x8000;

void put_u64(std::string& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

struct Reader {
    const std::string& in;
    size_t at = 0;
    bool take(size_t n, uint64_t& v) {
        if (in.size() - at < n) return false;
        v = 0;
        for (size_t i = 0; i < n; ++i) v |= uint64_t(static_cast<unsigned char>(in[at + i])) << (8 * i);
        at += n;
        return true;
    }
};

constexpr char kMagic[] = "damond-history-1";

}  // namespace

uint16_t FigureHistory::encode(uint64_t value) {
    // log2(2^64) * 500 = 32000: 15 bits, the 16th is the paused flag.
    return static_cast<uint16_t>(std::lround(std::log2(double(value) + 1.0) * kStepsPerDoubling));
}

uint64_t FigureHistory::decode(uint16_t code) {
    const double v = std::exp2(double(code) / kStepsPerDoubling) - 1.0;
    return v >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(std::llround(v));
}

void FigureHistory::record(const std::string& context, uint64_t unix_us, uint64_t working_set_bytes,
                           uint64_t idle_p90_us, bool paused) {
    if (capacity_ == 0) return;
    Ring& ring = rings_[context];
    if (!ring.points.empty()) {
        // Half a step early or late is the same slot; whole steps missed are gaps.
        if (unix_us + step_us_ / 2 < ring.last_unix_us + step_us_) return;
        const uint64_t steps = (unix_us - ring.last_unix_us + step_us_ / 2) / step_us_;
        for (uint64_t gap = 1; gap < steps && gap <= capacity_; ++gap) ring.points.push_back(kMissing);
    }
    const uint32_t ws = encode(working_set_bytes) | (paused ? kPausedBit : 0);
    ring.points.push_back(ws | (uint32_t(encode(idle_p90_us)) << 16));
    ring.last_unix_us = unix_us;
    while (ring.points.size() > capacity_) ring.points.pop_front();
}

std::vector<HistoryPoint> FigureHistory::points(const std::string& context) const {
    std::vector<HistoryPoint> out;
    auto it = rings_.find(context);
    if (it == rings_.end()) return out;
    const Ring& ring = it->second;
    const size_t n = ring.points.size();
    for (size_t i = 0; i < n; ++i) {
        const uint32_t p = ring.points[i];
        if (p == kMissing) continue;
        HistoryPoint h;
        h.unix_us = ring.last_unix_us - uint64_t(n - 1 - i) * step_us_;
        h.paused = (p & kPausedBit) != 0;
        h.working_set_bytes = decode(static_cast<uint16_t>(p & 0x7FFF));
        h.idle_p90_us = decode(static_cast<uint16_t>(p >> 16));
        out.push_back(h);
    }
    return out;
}

void FigureHistory::configure(size_t points, uint64_t step_us) {
    if (step_us != step_us_) rings_.clear();
    capacity_ = points;
    step_us_ = step_us;
    for (auto& [name, ring] : rings_)
        while (ring.points.size() > capacity_) ring.points.pop_front();
    if (capacity_ == 0) rings_.clear();
}

// magic, step, then per ring: name length, name, newest time, count, points.
std::string FigureHistory::serialize() const {
    std::string out(kMagic, sizeof kMagic - 1);
    put_u64(out, step_us_);
    put_u64(out, rings_.size());
    for (const auto& [name, ring] : rings_) {
        put_u64(out, name.size());
        out += name;
        put_u64(out, ring.last_unix_us);
        put_u64(out, ring.points.size());
        for (uint32_t p : ring.points) put_u32(out, p);
    }
    return out;
}

std::string FigureHistory::load(const std::string& bytes) {
    if (bytes.compare(0, sizeof kMagic - 1, kMagic) != 0) return "not a damond history file";
    Reader r{bytes, sizeof kMagic - 1};
    uint64_t step = 0, count = 0;
    if (!r.take(8, step) || !r.take(8, count)) return "cut short";
    if (step != step_us_) return "taken every " + std::to_string(step) + " us, not every " + std::to_string(step_us_);
    std::map<std::string, Ring> rings;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t len = 0, last = 0, n = 0;
        if (!r.take(8, len) || len > 65536 || bytes.size() - r.at < len) return "cut short";
        std::string name = bytes.substr(r.at, len);
        r.at += len;
        if (!r.take(8, last) || !r.take(8, n) || n > (bytes.size() - r.at) / 4) return "cut short";
        Ring ring;
        ring.last_unix_us = last;
        for (uint64_t j = 0; j < n; ++j) {
            uint64_t p = 0;
            r.take(4, p);
            ring.points.push_back(static_cast<uint32_t>(p));
        }
        while (ring.points.size() > capacity_) ring.points.pop_front();
        if (capacity_ && !ring.points.empty()) rings[std::move(name)] = std::move(ring);
    }
    if (r.at != bytes.size()) return "trailing bytes";
    rings_ = std::move(rings);
    return "";
}

}  // namespace damond
