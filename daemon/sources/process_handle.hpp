// A monitored process, held by a pidfd so a reused pid is never mistaken
// for it, and the madvise-style actions DAMOS applies to it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "core/addr_range.hpp"
#include "core/damos_params.hpp"

namespace damond {

class ProcessHandle {
public:
    // Throws std::system_error (ESRCH for no such process).
    explicit ProcessHandle(pid_t pid);
    ~ProcessHandle();
    ProcessHandle(const ProcessHandle&) = delete;
    ProcessHandle& operator=(const ProcessHandle&) = delete;

    pid_t pid() const { return pid_; }
    // False once the process has exited (its pidfd is readable).
    bool alive() const;
    // process_madvise over `ranges`, split into the kernel's per-call limits
    // (at most 1024 ranges per call; willneed in 4 MiB pieces, as the kernel
    // reads ahead at most read_ahead_kb per range). Returns the bytes advised;
    // throws std::system_error if nothing could be.
    uint64_t madvise(const std::vector<AddrRange>& ranges, Action action) const;

private:
    pid_t pid_;
    UniqueFd pidfd_;
};

// The madvise advice for an action that works on another process, or -1.
int remote_advice(Action action);

}  // namespace damond
