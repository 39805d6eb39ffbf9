#include "sources/process_pageout.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "core/addr_range.hpp"
#include "core/damos_params.hpp"
#include "sources/proc_fs.hpp"
#include "sources/proc_maps.hpp"
#include "sources/process_handle.hpp"

namespace damond {

uint64_t page_out_process(uint32_t pid, uint64_t start_time, const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
    std::vector<AddrRange> r;
    r.reserve(ranges.size());
    for (const auto& [start, end] : ranges) r.push_back({start, end});
    // The pidfd first: a pid reused after it is open is another process,
    // which the pidfd does not reach; one reused before shows another start
    // time.
    ProcessHandle process(static_cast<pid_t>(pid));
    if (start_time && process_start_time(pid) != start_time)
        throw std::system_error(ESRCH, std::generic_category(),
                                "pid " + std::to_string(pid) + " is no longer the app's process");
    return process.madvise(r, Action::Pageout);
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
