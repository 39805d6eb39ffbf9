// What an app's reclaim asks of the system, behind one small interface so
// that tests replace it: paging out ranges of a process, counting its major
// faults, and how much swap there is.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "manager/reclaim_ranges.hpp"

namespace damond {

class ReclaimSystem {
public:
    struct Swap {
        uint64_t total_bytes = 0;
        uint64_t free_bytes = 0;
    };
    virtual ~ReclaimSystem() = default;
    virtual Swap swap() = 0;
    // Whole pages of process `pid`, the one that started at `start_time`
    // (/proc/<pid>/stat field 22; 0: unknown, not checked). Returns the bytes
    // advised; throws std::system_error when nothing could be (the process
    // gone or the pid another's: ESRCH). Runs on the reclaim's own thread.
    virtual uint64_t page_out(uint32_t pid, uint64_t start_time, const std::vector<ReclaimRange>& ranges) = 0;
    // nullopt when the process is gone.
    virtual std::optional<uint64_t> major_faults(uint32_t pid) = 0;
    // Its anonymous memory, in address order (empty when gone): what a
    // reclaim keeps to (file-backed pages are the page cache's to manage).
    virtual std::vector<ReclaimRange> anonymous(uint32_t pid) = 0;
    // Writes <cgroup_dir>/cgroup.freeze; throws std::system_error naming it.
    virtual void set_frozen(const std::string& cgroup_dir, bool frozen) = 0;
    virtual uint64_t page_size() = 0;
};

// process_madvise(MADV_PAGEOUT), /proc/<pid>/stat, /proc/meminfo.
std::shared_ptr<ReclaimSystem> live_reclaim_system();

}  // namespace damond
