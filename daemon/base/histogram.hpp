// A histogram with fixed bucket bounds, as Prometheus keeps one: counts per
// upper bound (cumulative when read), their sum and count.
#pragma once

#include <cstdint>
#include <vector>

namespace damond {

class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds)
        : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1) {}

    void observe(double value) {
        size_t i = 0;
        while (i < bounds_.size() && value > bounds_[i]) ++i;
        counts_[i]++;  // the last slot is +Inf
        sum_ += value;
        count_++;
    }
    const std::vector<double>& bounds() const { return bounds_; }
    // Observations <= bounds()[i]; i == bounds().size() is +Inf.
    uint64_t cumulative(size_t i) const {
        uint64_t n = 0;
        for (size_t j = 0; j <= i && j < counts_.size(); ++j) n += counts_[j];
        return n;
    }
    double sum() const { return sum_; }
    uint64_t count() const { return count_; }

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;
    double sum_ = 0;
    uint64_t count_ = 0;
};

}  // namespace damond
