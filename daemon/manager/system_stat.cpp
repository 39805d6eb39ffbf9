#include "manager/system_stat.hpp"

#include "log.hpp"

namespace damond {

void SystemStat::refresh(std::function<void()> done) {
    if (!manager_.has_context(context_)) {
        if (done) done();
        return;
    }
    manager_.snapshot_json(context_, [this, done](std::exception_ptr error, std::string) {
        if (error) log_warning("system-stat: no snapshot: " + error_text(error));
        else if (manager_.has_context(context_)) {
            figures_ = stat_figures(manager_.last_snapshot(context_));
            refreshed_us_ = now_us_();
        }
        if (done) done();
    });
}

}  // namespace damond
