#include "kernel/system_ram.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace damond {

std::optional<AddrRange> biggest_system_ram(const std::string& iomem) {
    std::optional<AddrRange> best;
    std::istringstream in(iomem);
    for (std::string line; std::getline(in, line);) {
        // "00100000-bffdffff : System RAM"; nested resources are indented.
        if (line.empty() || line[0] == ' ') continue;
        const size_t dash = line.find('-'), colon = line.find(" : ");
        if (dash == std::string::npos || colon == std::string::npos || dash > colon) continue;
        if (line.substr(colon + 3) != "System RAM") continue;
        uint64_t first = 0, last = 0;
        try {
            first = std::stoull(line.substr(0, dash), nullptr, 16);
            last = std::stoull(line.substr(dash + 1, colon - dash - 1), nullptr, 16);
        } catch (const std::exception&) {
            continue;
        }
        if (last <= first || last == UINT64_MAX) continue;  // zeros: not root
        const AddrRange r{first, last + 1};
        if (!best || r.end - r.start > best->end - best->start) best = r;
    }
    return best;
}

std::optional<AddrRange> biggest_system_ram_in_memmap(const std::string& dir) {
    std::optional<AddrRange> best;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        auto read = [&](const char* name) {
            std::ifstream in(entry.path() / name);
            std::string text;
            std::getline(in, text);
            return text;
        };
        if (read("type") != "System RAM") continue;
        uint64_t first = 0, last = 0;
        try {
            first = std::stoull(read("start"), nullptr, 16);
            last = std::stoull(read("end"), nullptr, 16);
        } catch (const std::exception&) {
            continue;
        }
        if (last <= first || last == UINT64_MAX) continue;
        const AddrRange r{first, last + 1};
        if (!best || r.end - r.start > best->end - best->start) best = r;
    }
    return best;
}

}  // namespace damond
