// Metric families and their text: OpenMetrics 1.0, or the Prometheus text
// format 0.0.4 that the node exporter's textfile collector and promtool read
// (they take OpenMetrics counters for untyped metrics of another name). The
// two differ only in the counters' TYPE/HELP names, UNIT lines and "# EOF";
// series names and values are the same in both.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace damond {

enum class Exposition { OpenMetrics, Prometheus };

using Labels = std::vector<std::pair<std::string, std::string>>;

struct MetricSample {
    std::string suffix;  // "_total", "_bucket", "_sum", "_count" or ""
    Labels labels;
    std::string value;  // as written: see metric_value()
};

struct MetricFamily {
    std::string name;  // without "_total" for counters
    std::string type;  // counter | gauge | histogram
    std::string unit;  // "" or the name's last part (bytes, seconds)
    std::string help;
    std::vector<MetricSample> samples;

    // Adds one sample of a counter (suffix _total) or gauge.
    MetricFamily& add(Labels labels, std::string value);
};

std::string metric_value(uint64_t v);
std::string metric_value(double v);
// Microseconds as seconds, exactly (six decimals at most).
std::string metric_seconds(uint64_t us);

std::string render(const std::vector<MetricFamily>& families, Exposition format);

}  // namespace damond
