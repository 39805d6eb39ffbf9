// SIGTERM, SIGINT and SIGHUP as a readable fd, handled in the main loop and
// never inside a signal handler. Made before any thread starts: the signals
// are blocked in every thread, so none is killed by them.
#pragma once

#include <optional>

#include "base/unique_fd.hpp"

namespace damond {

class SignalFd {
public:
    SignalFd();  // throws std::system_error
    int fd() const { return fd_.get(); }
    // The next pending signal, if any; never blocks.
    std::optional<int> next();
    void close() { fd_.reset(); }

private:
    UniqueFd fd_;
};

}  // namespace damond
