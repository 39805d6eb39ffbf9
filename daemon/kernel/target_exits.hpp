// The exits of kernel contexts' vaddr targets, for every context of the
// backend: one PidWatcher thread sleeps on all their pidfds (a thread per
// context was 64 threads at 32 kernel-backed apps). A context's callback
// runs on that thread, never after unwatch() has returned.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/pid_watcher.hpp"

namespace damond {

class TargetExits {
public:
    TargetExits();
    TargetExits(const TargetExits&) = delete;
    TargetExits& operator=(const TargetExits&) = delete;

    // Watches `pids` for `key` (one per context); `on_exit` runs once for
    // each that exits, or at once, on this thread, for one already gone.
    void watch(const std::string& key, const std::vector<pid_t>& pids, std::function<void()> on_exit);
    void unwatch(const std::string& key);

private:
    struct Watched {
        std::vector<pid_t> pids;
        std::function<void()> on_exit;
    };
    void exited(const std::string& key, pid_t pid);

    std::mutex mu_;  // held while a callback runs, so unwatch() waits for it
    std::map<std::string, Watched> watched_;
    PidWatcher watcher_;  // last: its thread stops before the map goes
};

}  // namespace damond
