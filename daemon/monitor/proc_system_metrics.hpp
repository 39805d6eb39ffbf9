// SystemMetrics from /proc and /sys, read under a root directory so tests
// can point it at recorded files.
#pragma once

#include <string>

#include "core/system_metrics.hpp"

namespace damond {

class ProcSystemMetrics : public SystemMetrics {
public:
    explicit ProcSystemMetrics(std::string root = "") : root_(std::move(root)) {}

    std::optional<uint64_t> free_mem_rate() override;
    uint64_t some_mem_psi_total_us() override;
    std::optional<uint64_t> goal_metric(const QuotaGoal& goal) override;

private:
    std::string root_;
};

// "Key:   1234 kB" lines of a meminfo-style file, in kB; nullopt if absent.
std::optional<uint64_t> meminfo_value(const std::string& text, const std::string& key);

}  // namespace damond
