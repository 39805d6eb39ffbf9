#include "base/pid_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/errors.hpp"

namespace damond {

PidWatcher::PidWatcher(OnExit on_exit)
    : on_exit_(std::move(on_exit)), wake_fd_(checked_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")) {
    thread_ = std::thread([this] { loop(); });
}

PidWatcher::~PidWatcher() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    wake();
    thread_.join();
}

void PidWatcher::wake() {
    const uint64_t one = 1;
    (void)!::write(wake_fd_.get(), &one, sizeof one);
}

void PidWatcher::watch(const std::string& owner, pid_t pid) {
    UniqueFd fd = open_pidfd(pid);
    if (!fd.valid())
        throw DamondError(ErrorKind::InvalidArgument,
                          "pid " + std::to_string(pid) + ": " + (pid > 0 ? strerror(errno) : "not a process id"));
    {
        std::lock_guard<std::mutex> lock(mu_);
        pidfds_[Key(owner, pid)] = std::move(fd);
    }
    wake();
}

void PidWatcher::unwatch(const std::string& owner, pid_t pid) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = pidfds_.find(Key(owner, pid));
        if (it == pidfds_.end()) return;
        pidfds_.erase(it);
    }
    wake();
}

void PidWatcher::loop() {
    for (;;) {
        std::vector<pollfd> fds{{wake_fd_.get(), POLLIN, 0}};
        std::vector<Key> keys;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (stopping_) return;
            for (const auto& [key, fd] : pidfds_) {
                fds.push_back({fd.get(), POLLIN, 0});
                keys.push_back(key);
            }
        }
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
        if (fds[0].revents) {
            uint64_t n;
            (void)!::read(wake_fd_.get(), &n, sizeof n);
            continue;  // the set changed, or we are stopping
        }
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!fds[i].revents) continue;
            {
                std::lock_guard<std::mutex> lock(mu_);
                auto it = pidfds_.find(keys[i - 1]);
                if (it == pidfds_.end() || it->second.get() != fds[i].fd) continue;  // unwatched meanwhile
                pidfds_.erase(it);
            }
            on_exit_(keys[i - 1].first, keys[i - 1].second);
        }
    }
}

}  // namespace damond
