#pragma once

#include <cstdint>

namespace damond {

// A half-open address range [start, end).
struct AddrRange {
    uint64_t start = 0;
    uint64_t end = 0;
    bool operator==(const AddrRange&) const = default;
};

}  // namespace damond
