// DAMON_STAT's figures served by damond: when damond turns the kernel's
// DAMON_STAT module off to take DAMON over, it runs a context like the
// module's and publishes what the module published, refreshed as often
// (every 5 s), so that what read the module's parameters can read damond.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "manager/manager.hpp"
#include "monitor/stat_figures.hpp"

namespace damond {

class SystemStat {
public:
    static constexpr uint64_t kRefreshMs = 5000;  // as mm/damon/stat.c
    // `context`: the stand-in's name in `manager`; `now_us`: the clock of
    // refreshed_us().
    SystemStat(Manager& manager, std::string context, std::function<uint64_t()> now_us)
        : manager_(manager), context_(std::move(context)), now_us_(std::move(now_us)) {}

    const std::string& context() const { return context_; }
    // Takes a snapshot of the context and computes the figures from it;
    // `done` runs once they are in (they stay as they were on an error).
    void refresh(std::function<void()> done = {});
    const StatFigures& figures() const { return figures_; }
    // When the figures were last computed (manager clock), 0 before.
    uint64_t refreshed_us() const { return refreshed_us_; }

private:
    Manager& manager_;
    std::string context_;
    std::function<uint64_t()> now_us_;
    StatFigures figures_;
    uint64_t refreshed_us_ = 0;
};

}  // namespace damond
