#include "svg.hpp"

#include <cstdio>

namespace damonctl::svg {

namespace {

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    std::string s = buf;
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    return s;
}

}  // namespace

std::string escape(const std::string& t) {
    std::string out;
    for (char c : t) {
        switch (c) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string colour(uint32_t rgb) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%06x", rgb & 0xffffff);
    return buf;
}

std::string text(double x, double y, const std::string& content, const std::string& attrs) {
    // 11 px unless the caller says otherwise (an attribute twice is an XML error).
    const std::string size = attrs.find("font-size") == std::string::npos ? " font-size=\"11\"" : "";
    return "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" font-family=\"monospace\"" + size +
           (attrs.empty() ? "" : " " + attrs) + ">" + escape(content) + "</text>\n";
}

std::string rect(double x, double y, double w, double h, const std::string& fill, const std::string& attrs) {
    return "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(w) + "\" height=\"" + number(h) +
           "\" fill=\"" + fill + "\"" + (attrs.empty() ? "" : " " + attrs) + "/>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& stroke, double width) {
    return "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) + "\" y2=\"" + number(y2) +
           "\" stroke=\"" + stroke + "\" stroke-width=\"" + number(width) + "\"/>\n";
}

uint64_t tick_step(uint64_t span, double width_px, double min_gap_px) {
    if (span == 0 || width_px <= 0) return 1;
    for (uint64_t decade = 1;; decade *= 10)
        for (uint64_t m : {1, 2, 5}) {
            const uint64_t step = m * decade;
            if (double(step) / double(span) * width_px >= min_gap_px || step >= span) return step;
        }
}

}  // namespace damonctl::svg
