// What giving back a background app's memory needs from the system: paging
// out ranges of a process (process_madvise MADV_PAGEOUT through a pidfd
// opened before the process's start time is checked, so a reused pid is
// never touched), its major faults so far, and how much swap there is to
// page out to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace damond {

// [start, end) ranges, whole pages, of the process `pid` that started at
// `start_time` (/proc/<pid>/stat field 22; 0: not checked). Returns the
// bytes advised; throws std::system_error naming the process when nothing
// could be (ESRCH: gone, or the pid is another process's now).
uint64_t page_out_process(uint32_t pid, uint64_t start_time, const std::vector<std::pair<uint64_t, uint64_t>>& ranges);

// The process's anonymous memory (/proc/<pid>/maps: no file behind it, its
// heap and stacks; not the vdso), adjacent mappings joined; empty when gone.
std::vector<std::pair<uint64_t, uint64_t>> process_anonymous_ranges(uint32_t pid);

// /proc/<pid>/stat field 12 (majflt); nullopt when the process is gone.
std::optional<uint64_t> process_major_faults(uint32_t pid);

struct SwapSpace {
    uint64_t total_bytes = 0;
    uint64_t free_bytes = 0;
};
// SwapTotal and SwapFree of <proc_root>/meminfo; zeros when unreadable.
SwapSpace read_swap_space(const std::string& proc_root = "/proc");

}  // namespace damond
