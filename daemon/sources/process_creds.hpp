// Who a process runs as, as the kernel's ptrace access check sees it: the
// check that guards /proc/<pid>/maps, smaps and pagemap (PTRACE_MODE_READ).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace damond {

struct ProcessCreds {
    uid_t uid = 0, euid = 0, suid = 0;  // real, effective, saved
    gid_t gid = 0, egid = 0, sgid = 0;
    // The kernel lets its owner read a process's memory layout only while
    // it is dumpable (not after a setuid exec or prctl(PR_SET_DUMPABLE, 0)).
    bool dumpable = false;
    bool operator==(const ProcessCreds&) const = default;
};

// From <proc_root>/<pid>/status: its Uid: and Gid: lines, and its owner
// (root while the process is not dumpable, its effective ids otherwise).
// nullopt if there is no such process.
std::optional<ProcessCreds> read_process_creds(uint32_t pid, const std::string& proc_root = "/proc");

}  // namespace damond
