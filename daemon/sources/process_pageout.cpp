#include "sources/process_pageout.hpp"

#include <fstream>
#include <sstream>

#include "core/addr_range.hpp"
#include "core/damos_params.hpp"
#include "sources/proc_fs.hpp"
#include "sources/proc_maps.hpp"
#include "sources/process_handle.hpp"

namespace damond {

uint64_t page_out_process(uint32_t pid, const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
    std::vector<AddrRange> r;
    r.reserve(ranges.size());
    for (const auto& [start, end] : ranges) r.push_back({start, end});
    return ProcessHandle(static_cast<pid_t>(pid)).madvise(r, Action::Pageout);
}

std::vector<std::pair<uint64_t, uint64_t>> process_anonymous_ranges(uint32_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (const Vma& v : parse_maps(text.str())) {
        if (v.file_backed() || v.path == "[vdso]" || v.path == "[vvar]" || v.path == "[vvar_vclock]") continue;
        if (!out.empty() && out.back().second == v.start)
            out.back().second = v.end;
        else
            out.emplace_back(v.start, v.end);
    }
    return out;
}

std::optional<uint64_t> process_major_faults(uint32_t pid) { return process_stat_field(pid, 12); }

SwapSpace read_swap_space(const std::string& proc_root) {
    SwapSpace s;
    std::ifstream in(proc_root + "/meminfo");
    std::string key;
    uint64_t kib = 0;
    std::string unit;
    while (in >> key >> kib) {
        std::getline(in, unit);
        if (key == "SwapTotal:") s.total_bytes = kib * 1024;
        if (key == "SwapFree:") s.free_bytes = kib * 1024;
    }
    return s;
}

}  // namespace damond
