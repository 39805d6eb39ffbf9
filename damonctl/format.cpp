#include "format.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace damonctl {

std::string human_size(uint64_t bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double v = double(bytes);
    size_t u = 0;
    while (v >= 1024 && u + 1 < std::size(units)) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
    return buf;
}

std::string human_duration_us(uint64_t us) {
    char buf[48];
    if (us < 1000) return std::to_string(us) + " us";
    if (us < 1000000) {
        std::snprintf(buf, sizeof buf, "%.1f ms", double(us) / 1e3);
        return buf;
    }
    const uint64_t s = us / 1000000;
    if (s < 60) {
        std::snprintf(buf, sizeof buf, "%.1f s", double(us) / 1e6);
        return buf;
    }
    if (s < 3600) {
        std::snprintf(buf, sizeof buf, "%llu min %llu s", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
        return buf;
    }
    if (s < 86400) {
        std::snprintf(buf, sizeof buf, "%llu h %llu min", (unsigned long long)(s / 3600),
                      (unsigned long long)(s % 3600 / 60));
        return buf;
    }
    std::snprintf(buf, sizeof buf, "%llu d %llu h", (unsigned long long)(s / 86400),
                  (unsigned long long)(s % 86400 / 3600));
    return buf;
}

namespace {

// Characters, not bytes: a UTF-8 continuation byte takes no column.
size_t display_width(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xc0) != 0x80;
    return n;
}

}  // namespace

void Table::print(std::ostream& out, const std::string& indent) const {
    std::vector<size_t> width;
    for (const auto& row : rows_)
        for (size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], display_width(row[i]));
        }
    for (size_t r = 0; r < rows_.size(); ++r) {
        const auto& row = rows_[r];
        std::string line = indent;
        for (size_t i = 0; i < row.size(); ++i) {
            const bool number = r > 0 && !row[i].empty() && std::isdigit(static_cast<unsigned char>(row[i][0]));
            const std::string pad(width[i] - display_width(row[i]), ' ');
            line += number ? pad + row[i] : row[i] + (i + 1 < row.size() ? pad : "");
            if (i + 1 < row.size()) line += "  ";
        }
        out << line << '\n';
    }
}

std::string round_duration_us(uint64_t us) {
    if (us == 0) return "0 s";
    static const std::pair<uint64_t, const char*> units[] = {{86400000000, "d"}, {3600000000, "h"}, {60000000, "min"},
                                                             {1000000, "s"},     {1000, "ms"},      {1, "us"}};
    // The largest unit not above it, when it divides it.
    for (const auto& [size, name] : units)
        if (size <= us) return us % size == 0 ? std::to_string(us / size) + " " + name : human_duration_us(us);
    return human_duration_us(us);
}

}  // namespace damonctl
