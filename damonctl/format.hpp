// Numbers and tables for people: sizes in binary units, durations, aligned
// columns.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace damonctl {

// "0 B", "4.00 KiB", "1.50 GiB".
std::string human_size(uint64_t bytes);
// "850 us", "12.5 ms", "3.2 s", "4 min 10 s", "2 h 5 min", "3 d 4 h".
std::string human_duration_us(uint64_t us);
// A round duration in its own unit, for axis ticks and scales: "0 s",
// "500 ms", "2 s", "10 min", "1 h"; human_duration_us otherwise.
std::string round_duration_us(uint64_t us);

// Columns padded to their widest cell; numbers (cells starting with a
// digit) right-aligned.
class Table {
public:
    explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    size_t size() const { return rows_.size() - 1; }
    void print(std::ostream& out, const std::string& indent = "") const;

private:
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace damonctl
