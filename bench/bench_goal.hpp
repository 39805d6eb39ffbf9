// A speed goal beside what it judges: prints "GOAL <metric> <op> <limit>:
// met|MISSED (<value>)" and counts the misses, so the program can exit 1.
#pragma once

#include <cstdio>
#include <string>

namespace damond::bench {

inline int& goals_missed() {
    static int missed = 0;
    return missed;
}

inline void goal(const char* metric, double value, const char* op, double limit) {
    const bool met = std::string(op) == "<=" ? value <= limit : value >= limit;
    if (!met) ++goals_missed();
    std::printf("GOAL %s %s %g: %s (%.3f)\n", metric, op, limit, met ? "met" : "MISSED", value);
}

}  // namespace damond::bench
