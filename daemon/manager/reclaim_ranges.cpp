#include "manager/reclaim_ranges.hpp"

#include <algorithm>

namespace damond {

namespace {

std::vector<ReclaimRange> idle_ranges(const std::vector<SnapshotRegion>& regions, uint64_t aggr_us,
                                      uint64_t min_idle_us) {
    std::vector<ReclaimRange> out;
    for (const SnapshotRegion& r : regions) {
        // An access in the window under way counts too: it is not idle now.
        if (r.last_nr_accesses || r.nr_accesses) continue;
        const uint64_t idle_us = uint64_t(r.age) * aggr_us;
        if (idle_us < min_idle_us || r.end <= r.start) continue;
        out.push_back({r.start, r.end, idle_us});
    }
    std::sort(out.begin(), out.end(), [](const ReclaimRange& a, const ReclaimRange& b) { return a.start < b.start; });
    return out;
}

// Both lists sorted and non-overlapping within themselves.
std::vector<ReclaimRange> intersect(const std::vector<ReclaimRange>& a, const std::vector<ReclaimRange>& b) {
    std::vector<ReclaimRange> out;
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const uint64_t start = std::max(a[i].start, b[j].start), end = std::min(a[i].end, b[j].end);
        if (start < end) {
            const uint64_t idle = std::min(a[i].idle_us, b[j].idle_us);
            // Touching the last one: one range (the shorter idle time of the two).
            if (!out.empty() && out.back().end == start)
                out.back() = {out.back().start, end, std::min(out.back().idle_us, idle)};
            else
                out.push_back({start, end, idle});
        }
        if (a[i].end < b[j].end)
            ++i;
        else
            ++j;
    }
    return out;
}

void align_to_pages(std::vector<ReclaimRange>& ranges, uint64_t page) {
    std::vector<ReclaimRange> out;
    for (ReclaimRange r : ranges) {
        r.start = (r.start + page - 1) / page * page;
        r.end = r.end / page * page;
        if (r.start < r.end) out.push_back(r);
    }
    ranges = std::move(out);
}

}  // namespace

std::vector<ReclaimRange> clip_ranges(const std::vector<ReclaimRange>& ranges,
                                      const std::vector<ReclaimRange>& within) {
    std::vector<ReclaimRange> out;
    size_t i = 0, j = 0;
    while (i < ranges.size() && j < within.size()) {
        const uint64_t start = std::max(ranges[i].start, within[j].start);
        const uint64_t end = std::min(ranges[i].end, within[j].end);
        if (start < end) out.push_back({start, end, ranges[i].idle_us});
        if (ranges[i].end < within[j].end)
            ++i;
        else
            ++j;
    }
    return out;
}

ReclaimChoice choose_reclaim_ranges(const MonitorSnapshot& foreground, const MonitorSnapshot& background,
                                    const ReclaimRule& rule, const std::vector<std::vector<ReclaimRange>>* within) {
    ReclaimChoice choice;
    for (const auto& [what, snap] :
         {std::pair<const char*, const MonitorSnapshot*>{"foreground", &foreground}, {"background", &background}})
        if (snap->nr_aggregations < rule.min_aggregations) {
            choice.refused = std::string("its ") + what + " context has aggregated " +
                             std::to_string(snap->nr_aggregations) + " times, fewer than " +
                             std::to_string(rule.min_aggregations) + ": it has not learned enough";
            return choice;
        }
    if (foreground.targets.size() != background.targets.size()) {
        choice.refused = "its contexts watch " + std::to_string(foreground.targets.size()) + " and " +
                         std::to_string(background.targets.size()) + " processes";
        return choice;
    }
    const uint64_t page = std::max<uint64_t>(rule.page_size, 1);
    for (size_t t = 0; t < foreground.targets.size(); ++t) {
        std::vector<ReclaimRange> both =
            intersect(idle_ranges(foreground.targets[t], foreground.aggr_us, rule.min_idle_us),
                      idle_ranges(background.targets[t], background.aggr_us, rule.min_idle_us));
        if (within) both = t < within->size() ? clip_ranges(both, (*within)[t]) : std::vector<ReclaimRange>{};
        align_to_pages(both, page);
        choice.targets.push_back(std::move(both));
    }
    if (rule.max_bytes) {
        // Over the limit: the longest idle first, cut to whole pages.
        struct Pick {
            size_t target;
            ReclaimRange range;
        };
        std::vector<Pick> all;
        for (size_t t = 0; t < choice.targets.size(); ++t)
            for (const ReclaimRange& r : choice.targets[t]) all.push_back({t, r});
        std::stable_sort(all.begin(), all.end(),
                         [](const Pick& a, const Pick& b) { return a.range.idle_us > b.range.idle_us; });
        for (auto& ranges : choice.targets) ranges.clear();
        uint64_t left = rule.max_bytes / page * page;
        for (Pick& p : all) {
            if (!left) break;
            const uint64_t size = std::min(p.range.end - p.range.start, left);
            p.range.end = p.range.start + size;
            left -= size;
            choice.targets[p.target].push_back(p.range);
        }
        for (auto& ranges : choice.targets)
            std::sort(ranges.begin(), ranges.end(),
                      [](const ReclaimRange& a, const ReclaimRange& b) { return a.start < b.start; });
    }
    for (const auto& ranges : choice.targets)
        for (const ReclaimRange& r : ranges) choice.bytes += r.end - r.start;
    return choice;
}

}  // namespace damond
