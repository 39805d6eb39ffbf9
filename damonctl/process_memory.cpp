#include "process_memory.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace damonctl {

namespace {

// <linux/fs.h> from Linux 6.7; Debian 12's headers are older.
constexpr uint64_t kPageIsPresent = 1 << 3, kPageIsSwapped = 1 << 4;
struct PageRegion {
    uint64_t start, end, categories;
};
struct PmScanArg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
        category_anyof_mask, return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
// User space is the lower half on every 64-bit architecture; x86-64's
// [vsyscall] page sits in the upper one.
constexpr uint64_t kUpperHalf = 1ULL << 63;

// Resident or swapped page ranges within [start, end), gaps under 1 MiB
// closed (a heatmap row is far larger); false if the kernel would not say.
bool resident_ranges(int pid, uint64_t start, uint64_t end, AddrRanges& out) {
    const int fd = open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::vector<PageRegion> vec(4096);
    bool ok = true;
    for (uint64_t at = start; at < end;) {
        PmScanArg arg{};
        arg.size = sizeof arg;
        arg.start = at;
        arg.end = end;
        arg.vec = reinterpret_cast<uint64_t>(vec.data());
        arg.vec_len = vec.size();
        arg.category_anyof_mask = kPageIsPresent | kPageIsSwapped;
        arg.return_mask = kPageIsPresent | kPageIsSwapped;
        const int n = ioctl(fd, kPagemapScan, &arg);
        if (n < 0) {
            ok = false;
            break;
        }
        for (int i = 0; i < n; ++i) {
            if (!out.empty() && vec[i].start < out.back().second + (1 << 20))
                out.back().second = std::max(out.back().second, vec[i].end);
            else
                out.emplace_back(vec[i].start, vec[i].end);
        }
        if (arg.walk_end <= at) break;  // no progress: stop rather than spin
        at = arg.walk_end;
    }
    close(fd);
    return ok;
}

}  // namespace

AddrRanges read_maps(int pid) {
    AddrRanges out;
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    for (std::string line; std::getline(in, line);) {
        unsigned long long start = 0, end = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx", &start, &end) == 2 && end > start) out.emplace_back(start, end);
    }
    std::sort(out.begin(), out.end());
    return out;
}

ProcessMemory process_memory(int pid) {
    ProcessMemory m;
    const AddrRanges maps = read_maps(pid);
    if (maps.empty()) return m;
    AddrRanges resident;
    // The walk covers user space only (an end past it is EFAULT).
    uint64_t top = maps.front().first;
    for (const auto& r : maps)
        if (r.first < kUpperHalf) top = std::max(top, r.second);
    if (!resident_ranges(pid, maps.front().first, top, resident) || resident.empty()) {
        m.ranges = maps;
        return m;
    }
    // Mapped and resident, cut at every mapping's edges.
    size_t j = 0;
    for (const auto& map : maps) {
        while (j < resident.size() && resident[j].second <= map.first) ++j;
        for (size_t k = j; k < resident.size() && resident[k].first < map.second; ++k) {
            const uint64_t lo = std::max(map.first, resident[k].first), hi = std::min(map.second, resident[k].second);
            if (hi > lo) m.ranges.emplace_back(lo, hi);
        }
    }
    m.resident = true;
    return m;
}

}  // namespace damonctl
