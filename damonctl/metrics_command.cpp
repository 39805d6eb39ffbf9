// `metrics`: damond's metrics text (Manager.Metrics), for a look by hand or a
// pipe into promtool; the same text metrics.textfile holds.
#include <iostream>

#include "bus.hpp"
#include "commands.hpp"

namespace damonctl {

int cmd_metrics(Args& a) {
    const std::string format = a.option("format", "openmetrics");
    a.expect(0, "damonctl metrics [--format openmetrics|prometheus]");
    if (format != "openmetrics" && format != "prometheus")
        throw Failure(kUsage, "--format: unknown format '" + format + "' (expected openmetrics or prometheus)");
    Damond d;
    std::cout << call([&] { return d.manager().Metrics(format); });
    return kOk;
}

}  // namespace damonctl
