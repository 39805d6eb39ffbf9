#include "metrics/exposition.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace damond {

MetricFamily& MetricFamily::add(Labels labels, std::string value) {
    samples.push_back({type == "counter" ? "_total" : "", std::move(labels), std::move(value)});
    return *this;
}

std::string metric_value(uint64_t v) { return std::to_string(v); }

std::string metric_value(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    // The shortest text that reads back the same.
    for (int digits = 1; digits < 17; ++digits) {
        char shorter[32];
        std::snprintf(shorter, sizeof shorter, "%.*g", digits, v);
        if (std::strtod(shorter, nullptr) == v) return shorter;
    }
    return buf;
}

std::string metric_seconds(uint64_t us) {
    std::string s = std::to_string(us / 1000000);
    if (uint64_t frac = us % 1000000) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%06llu", static_cast<unsigned long long>(frac));
        std::string f(buf);
        while (!f.empty() && f.back() == '0') f.pop_back();
        s += "." + f;
    }
    return s;
}

namespace {

void escape_into(std::string& out, const std::string& text, bool quotes) {
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quotes)
            out += "\\\"";
        else
            out += c;
    }
}

}  // namespace

std::string render(const std::vector<MetricFamily>& families, Exposition format) {
    std::string out;
    out.reserve(families.size() * 256);
    for (const MetricFamily& f : families) {
        const bool counter = f.type == "counter";
        // The Prometheus text format names a counter's family as its series.
        const std::string head = counter && format == Exposition::Prometheus ? f.name + "_total" : f.name;
        out += "# HELP " + head + " ";
        // OpenMetrics escapes quotes in HELP too; the 0.0.4 text format not.
        escape_into(out, f.help, format == Exposition::OpenMetrics);
        out += "\n# TYPE " + head + " " + f.type + "\n";
        if (format == Exposition::OpenMetrics && !f.unit.empty()) out += "# UNIT " + f.name + " " + f.unit + "\n";
        for (const MetricSample& s : f.samples) {
            out += f.name;
            out += s.suffix;
            if (!s.labels.empty()) {
                out += '{';
                bool first = true;
                for (const auto& [k, v] : s.labels) {
                    if (!first) out += ',';
                    first = false;
                    out += k;
                    out += "=\"";
                    escape_into(out, v, true);
                    out += '"';
                }
                out += '}';
            }
            out += ' ';
            out += s.value;
            out += '\n';
        }
    }
    if (format == Exposition::OpenMetrics) out += "# EOF\n";
    return out;
}

}  // namespace damond
