#include "sources/proc_maps.hpp"

#include <algorithm>
#include <sstream>

namespace damond {

namespace {

uint64_t align_up(uint64_t v) { return (v + 4095) / 4096 * 4096; }

bool is_mapping_line(const std::string& line) {
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    return dash != std::string::npos && space != std::string::npos && dash < space;
}

}  // namespace

std::vector<Vma> parse_maps(const std::string& text) {
    std::vector<Vma> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (is_mapping_line(line)) {
            // start-end perms offset dev inode [path]
            std::istringstream fields(line);
            std::string range, offset, dev, inode;
            Vma v;
            fields >> range >> v.perms >> offset >> dev >> inode;
            std::getline(fields, v.path);
            v.path.erase(0, v.path.find_first_not_of(' '));
            const auto dash = range.find('-');
            v.start = std::stoull(range.substr(0, dash), nullptr, 16);
            v.end = std::stoull(range.substr(dash + 1), nullptr, 16);
            if (v.path == "[vsyscall]") continue;
            out.push_back(v);
            continue;
        }
        if (out.empty()) continue;
        // smaps detail lines: "Referenced:   8 kB"
        std::istringstream fields(line);
        std::string key;
        uint64_t kb = 0;
        if (!(fields >> key >> kb)) continue;
        if (key == "Rss:")
            out.back().rss = kb * 1024;
        else if (key == "Referenced:")
            out.back().referenced = kb * 1024;
        else if (key == "Anonymous:")
            out.back().anonymous = kb * 1024;
    }
    std::sort(out.begin(), out.end(), [](const Vma& a, const Vma& b) { return a.start < b.start; });
    return out;
}

std::optional<std::array<AddrRange, 3>> three_regions(const std::vector<Vma>& vmas) {
    if (vmas.empty()) return std::nullopt;
    AddrRange first_gap, second_gap;
    auto size = [](const AddrRange& r) { return r.end - r.start; };
    for (size_t i = 1; i < vmas.size(); ++i) {
        const uint64_t gap = vmas[i].start - vmas[i - 1].end;
        if (gap > size(first_gap)) {
            second_gap = first_gap;
            first_gap = {vmas[i - 1].end, vmas[i].start};
        } else if (gap > size(second_gap)) {
            second_gap = {vmas[i - 1].end, vmas[i].start};
        }
    }
    if (!size(first_gap) || !size(second_gap)) return std::nullopt;
    if (first_gap.start > second_gap.start) std::swap(first_gap, second_gap);
    return std::array<AddrRange, 3>{AddrRange{align_up(vmas.front().start), align_up(first_gap.start)},
                                    AddrRange{align_up(first_gap.end), align_up(second_gap.start)},
                                    AddrRange{align_up(second_gap.end), align_up(vmas.back().end)}};
}

const Vma* find_vma(const std::vector<Vma>& vmas, uint64_t addr) {
    auto it = std::upper_bound(vmas.begin(), vmas.end(), addr, [](uint64_t a, const Vma& v) { return a < v.start; });
    if (it == vmas.begin()) return nullptr;
    --it;
    return addr < it->end ? &*it : nullptr;
}

}  // namespace damond
