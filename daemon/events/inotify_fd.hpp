// An inotify instance and the watches on it, read in batches. Shared by the
// cgroup-based event sources.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/unique_fd.hpp"

namespace damond {

class InotifyFd {
public:
    InotifyFd();  // throws std::system_error
    ~InotifyFd();
    InotifyFd(const InotifyFd&) = delete;
    InotifyFd& operator=(const InotifyFd&) = delete;

    int fd() const { return fd_.get(); }
    // Returns the watch descriptor; throws std::system_error naming the path.
    int add(const std::string& path, uint32_t mask);
    void remove(int wd);
    // Calls `fn(wd, mask, name)` for every event pending; never blocks.
    void read_events(const std::function<void(int, uint32_t, const std::string&)>& fn);

private:
    UniqueFd fd_;
};

}  // namespace damond
