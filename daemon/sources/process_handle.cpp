#include "sources/process_handle.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1; missing from older headers
#endif

namespace damond {

namespace {

constexpr size_t kMaxIov = 1024;                 // UIO_MAXIOV
constexpr uint64_t kWillneedChunk = 4ULL << 20;  // under the default read_ahead_kb

}  // namespace

int remote_advice(Action action) {
    switch (action) {
    case Action::Cold: return MADV_COLD;
    case Action::Pageout: return MADV_PAGEOUT;
    case Action::Willneed: return MADV_WILLNEED;
    case Action::Collapse: return MADV_COLLAPSE;
    default: return -1;
    }
}

ProcessHandle::ProcessHandle(pid_t pid) : pid_(pid), pidfd_(open_pidfd(pid)) {
    if (!pidfd_.valid())
        throw std::system_error(errno, std::generic_category(), "pidfd_open(" + std::to_string(pid) + ")");
}

ProcessHandle::~ProcessHandle() = default;

bool ProcessHandle::alive() const {
    pollfd p{pidfd_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

uint64_t ProcessHandle::madvise(const std::vector<AddrRange>& ranges, Action action) const {
    const int advice = remote_advice(action);
    if (advice < 0) throw std::system_error(EINVAL, std::generic_category(), "no remote madvise for this action");
    std::vector<iovec> iov;
    for (const AddrRange& r : ranges) {
        const uint64_t chunk = action == Action::Willneed ? kWillneedChunk : r.end - r.start;
        for (uint64_t a = r.start; a < r.end; a += chunk)
            iov.push_back(iovec{reinterpret_cast<void*>(a), static_cast<size_t>(std::min(chunk, r.end - a))});
    }
    uint64_t done = 0;
    int last_errno = 0;
    for (size_t i = 0; i < iov.size(); i += kMaxIov) {
        const size_t n = std::min(kMaxIov, iov.size() - i);
        const long rc = ::syscall(SYS_process_madvise, pidfd_.get(), iov.data() + i, n, advice, 0);
        if (rc < 0)
            last_errno = errno;
        else
            done += static_cast<uint64_t>(rc);
    }
    if (done == 0 && last_errno)
        throw std::system_error(last_errno, std::generic_category(), "process_madvise(" + std::to_string(pid_) + ")");
    return done;
}

}  // namespace damond
