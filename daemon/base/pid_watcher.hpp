// Watches processes by pidfd, so a reused pid is never mistaken for the
// process it was; one thread sleeps on all of them (no periodic wake-ups)
// and reports each exit. The one way damond waits for processes: apps'
// processes (manager) and kernel contexts' vaddr targets (kernel).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "base/unique_fd.hpp"

namespace damond {

class PidWatcher {
public:
    // `on_exit` runs on the watcher's thread with the owner and pid of the
    // exited process.
    using OnExit = std::function<void(const std::string& owner, pid_t pid)>;
    explicit PidWatcher(OnExit on_exit);
    ~PidWatcher();
    PidWatcher(const PidWatcher&) = delete;
    PidWatcher& operator=(const PidWatcher&) = delete;

    // Throws DamondError(InvalidArgument) when there is no such process.
    // `owner`: whose process it is (an app id), so one watcher serves many.
    void watch(const std::string& owner, pid_t pid);
    void unwatch(const std::string& owner, pid_t pid);

private:
    void loop();
    void wake();

    using Key = std::pair<std::string, pid_t>;
    OnExit on_exit_;
    std::mutex mu_;
    std::map<Key, UniqueFd> pidfds_;
    UniqueFd wake_fd_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace damond
