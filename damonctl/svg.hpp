// What every damonctl picture (heatmap, history) draws with: text escaped
// for XML, colours, and axis ticks at round steps.
#pragma once

#include <cstdint>
#include <string>

namespace damonctl::svg {

std::string escape(const std::string& text);
std::string colour(uint32_t rgb);  // "#rrggbb"
std::string text(double x, double y, const std::string& content, const std::string& attrs = "");
std::string rect(double x, double y, double w, double h, const std::string& fill, const std::string& attrs = "");
std::string line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1);
// The smallest step of 1, 2 or 5 × 10^k (in the span's unit) that keeps
// ticks at least `min_gap_px` apart when `span` takes `width_px`.
uint64_t tick_step(uint64_t span, double width_px, double min_gap_px);

}  // namespace damonctl::svg
