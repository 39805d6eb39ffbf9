#include "events/inotify_fd.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace damond {

InotifyFd::InotifyFd() : fd_(checked_fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1")) {}

InotifyFd::~InotifyFd() = default;

int InotifyFd::add(const std::string& path, uint32_t mask) {
    const int wd = inotify_add_watch(fd_.get(), path.c_str(), mask);
    if (wd < 0) throw std::system_error(errno, std::generic_category(), path);
    return wd;
}

void InotifyFd::remove(int wd) { inotify_rm_watch(fd_.get(), wd); }

void InotifyFd::read_events(const std::function<void(int, uint32_t, const std::string&)>& fn) {
    alignas(inotify_event) char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n <= 0) return;  // EAGAIN: drained
        for (ssize_t off = 0; off < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
            fn(ev->wd, ev->mask, ev->len ? std::string(ev->name) : std::string());
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
    }
}

}  // namespace damond
