// Which memory cgroup each page frame is charged to, as /proc/kpagecgroup
// says: one u64 per page frame, the inode number of the cgroup's directory
// in cgroupfs (0 when the page is charged to none). The file is root's
// (0400) and exists on kernels with CONFIG_MEMCG and CONFIG_PROC_PAGE_MONITOR
// (Debian's do), every version damond supports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"

namespace damond {

class PageCgroups {
public:
    // Throws std::system_error naming the file when it cannot be opened.
    explicit PageCgroups(std::string path = "/proc/kpagecgroup");
    // One inode per pfn, in order; 0 for a frame the file has no entry for.
    std::vector<uint64_t> inodes(const std::vector<uint64_t>& pfns) const;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    UniqueFd fd_;
};

}  // namespace damond
