#include "base/signal_fd.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace damond {

SignalFd::SignalFd() {
    // A background job of a shell starts with SIGINT ignored, and an ignored
    // signal never reaches a signalfd: restore the defaults first.
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    fd_ = checked_fd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK), "signalfd");
}

std::optional<int> SignalFd::next() {
    signalfd_siginfo si{};
    if (!fd_.valid() || read(fd_.get(), &si, sizeof si) != static_cast<ssize_t>(sizeof si)) return std::nullopt;
    return static_cast<int>(si.ssi_signo);
}

}  // namespace damond
