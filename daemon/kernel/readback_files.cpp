#include "kernel/readback_files.hpp"

#include <cctype>
#include <cstdint>

#include "base/log.hpp"

namespace damond {

std::optional<uint64_t> parse_sysfs_u64(const std::string& text) {
    size_t n = text.size();
    if (n > 0 && text[n - 1] == '\n') --n;
    if (n == 0 || n > 20) return std::nullopt;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return std::nullopt;
        const uint64_t digit = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
        v = v * 10 + digit;
    }
    return v;
}

uint64_t read_sysfs_u64(const SysfsTree& tree, const std::string& path, uint64_t fallback) {
    std::string text;
    try {
        text = tree.read(path);
    } catch (const SysfsError& e) {
        if (e.code().value() == ETIMEDOUT) throw;
        return fallback;
    }
    if (auto v = parse_sysfs_u64(text)) return *v;
    throw SysfsError(EINVAL, path, "not a number ('" + text.substr(0, 32) + "') in");
}

namespace {

uint32_t read_u32(const SysfsTree& tree, const std::string& path) {
    const uint64_t v = read_sysfs_u64(tree, path);
    if (v > UINT32_MAX) throw SysfsError(EINVAL, path, "a count past 32 bits (" + std::to_string(v) + ") in");
    return static_cast<uint32_t>(v);
}

}  // namespace

std::vector<SnapshotRegion> read_tried_regions(const SysfsTree& tree, const std::string& dir, size_t nr_probes) {
    size_t nr_regions = 0;
    for (const std::string& e : tree.list(dir))
        if (!e.empty() && std::isdigit(static_cast<unsigned char>(e[0]))) ++nr_regions;
    std::vector<SnapshotRegion> regions;
    regions.reserve(nr_regions);
    for (size_t i = 0; i < nr_regions; ++i) {
        const std::string rd = dir + "/" + std::to_string(i);
        SnapshotRegion region;
        region.start = read_sysfs_u64(tree, rd + "/start");
        region.end = read_sysfs_u64(tree, rd + "/end");
        if (region.end <= region.start) {
            // Covers nothing (or its end could not be read): left out, so
            // that the read-back and the pause that asked for it go on. 6.12
            // showed one beside a scheme whose goal-tuned quota was a few bytes.
            log_warning("left out a region that does not end past its start (start " + std::to_string(region.start) +
                        ", end " + std::to_string(region.end) + ") in " + rd);
            continue;
        }
        if (!regions.empty() && region.start < regions.back().end)
            throw SysfsError(EINVAL, rd + "/start", "a region that overlaps the one before it, in");
        region.nr_accesses = read_u32(tree, rd + "/nr_accesses");
        region.last_nr_accesses = region.nr_accesses;
        region.age = read_u32(tree, rd + "/age");
        for (size_t p = 0; p < nr_probes; ++p)
            region.probe_hits.push_back(read_u32(tree, rd + "/probes/" + std::to_string(p) + "/hits"));
        regions.push_back(region);
    }
    return regions;
}

SchemeSnapshot read_scheme_stats(const SysfsTree& tree, const std::string& scheme_dir) {
    SchemeSnapshot s;
    const std::string st = scheme_dir + "/stats/";
    DamosStat& c = s.stats.counters;
    c.nr_tried = read_sysfs_u64(tree, st + "nr_tried");
    c.sz_tried = read_sysfs_u64(tree, st + "sz_tried");
    c.nr_applied = read_sysfs_u64(tree, st + "nr_applied");
    c.sz_applied = read_sysfs_u64(tree, st + "sz_applied");
    c.qt_exceeds = read_sysfs_u64(tree, st + "qt_exceeds");
    return s;
}

}  // namespace damond
