// System-wide figures that DAMOS watermarks and quota goals react to. The
// core asks through this interface and never reads /proc itself, so tests
// can hand it any figures they like.
#pragma once

#include <cstdint>
#include <optional>

#include "core/damos_params.hpp"

namespace damond {

class SystemMetrics {
public:
    virtual ~SystemMetrics() = default;
    // Free memory per 1000 of total (DAMOS_WMARK_FREE_MEM_RATE); nullopt if unknown.
    virtual std::optional<uint64_t> free_mem_rate() = 0;
    // Cumulative "some" memory pressure stall time in microseconds.
    virtual uint64_t some_mem_psi_total_us() = 0;
    // A goal's current value for the metrics the system reports
    // (node_mem_*_bp, active_mem_bp, inactive_mem_bp, ...); nullopt if unknown.
    virtual std::optional<uint64_t> goal_metric(const QuotaGoal& goal) = 0;
};

// Reports nothing: watermarks stay active, goals other than user_input read 0.
class NoSystemMetrics : public SystemMetrics {
public:
    std::optional<uint64_t> free_mem_rate() override { return std::nullopt; }
    uint64_t some_mem_psi_total_us() override { return 0; }
    std::optional<uint64_t> goal_metric(const QuotaGoal&) override { return std::nullopt; }
};

}  // namespace damond
