#include "monitor/given_up_monitor.hpp"

#include "base/errors.hpp"

namespace damond {

GivenUpMonitor::GivenUpMonitor(const Monitor& stuck, MonitorSnapshot last, std::string error)
    : backend_(stuck.backend()),
      kdamond_(stuck.kdamond()),
      access_source_(stuck.access_source()),
      access_source_reason_(stuck.access_source_reason()),
      last_(std::move(last)),
      figures_(figures_of(last_)),
      error_(std::move(error)) {
    set_backend_reason(stuck.backend_reason());
    stats_.nr_samples = last_.nr_samples;
    stats_.nr_aggregations = last_.nr_aggregations;
    for (const auto& t : last_.targets) stats_.nr_regions += t.size();
}

void GivenUpMonitor::refuse() const { throw DamondError(ErrorKind::Failed, "context failed: " + error_); }

}  // namespace damond
