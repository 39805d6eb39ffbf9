// One owner per file descriptor: closed exactly once, by whoever holds it
// last. Every fd damond opens lives in one of these.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

namespace damond {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    // Closes what it holds and takes `fd`.
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// Throws std::system_error naming `what` when `fd` is negative (errno set).
UniqueFd checked_fd(int fd, const std::string& what);
// A pidfd: readable once the process has exited, never mistaken for a
// process that reuses the pid. Invalid (errno set) when there is no process.
UniqueFd open_pidfd(pid_t pid);

}  // namespace damond
