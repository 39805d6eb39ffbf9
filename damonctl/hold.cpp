// `hold -- COMMAND...`: every context (or one) paused while COMMAND runs,
// released when it exits however it exits. The hold belongs to this
// process's bus connection, so if damonctl itself is killed damond drops it.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "bus.hpp"
#include "commands.hpp"

namespace damonctl {

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 if there is none.
size_t utf8_length(const std::string& s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
    return n;
}

// The command line for `who`, as damond takes it: control characters (a
// script's newlines) as spaces, bytes that are not UTF-8 as '?' (the bus
// carries UTF-8 only), cut to fit damond's text limits on a character.
std::string describe(const std::vector<std::string>& argv) {
    std::string raw = "damonctl hold (pid " + std::to_string(getpid()) + "):";
    for (const std::string& w : argv) raw += " " + w;
    std::string s;
    for (size_t i = 0; i < raw.size();) {
        const size_t n = utf8_length(raw, i);
        if (s.size() + std::max<size_t>(n, 1) > 197) {
            s += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(raw[i]);
        if (n == 0)
            s += '?';
        else if (c < 0x20 || c == 0x7F)
            s += ' ';
        else
            s.append(raw, i, n);
        i += std::max<size_t>(n, 1);
    }
    return s;
}

int status_to_exit(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return kFailed;
}

}  // namespace

int cmd_hold(Args& a) {
    const std::string context = a.option("context");
    const std::string why = a.option("why", "held while a command runs");
    auto dash = std::find(a.words.begin(), a.words.end(), "--");
    if (dash != a.words.begin() || dash == a.words.end() || dash + 1 == a.words.end())
        throw Failure(kUsage, "usage: damonctl hold [--context CONTEXT] [--why TEXT] -- COMMAND [ARG...]");
    std::vector<std::string> argv(dash + 1, a.words.end());

    Damond d;
    const std::string who = describe(argv);
    uint32_t cookie = 0;
    if (context.empty()) {
        cookie = call([&] { return d.manager().HoldPause(who, why); });
    } else {
        auto ctx = d.context(context);
        cookie = call([&] { return ctx->HoldPause(who, why); });
    }

    // Signals meant for the command reach it; damonctl waits for it to end.
    sigset_t mask, old;
    sigemptyset(&mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&mask, s);
    sigprocmask(SIG_BLOCK, &mask, &old);
    const int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);

    const pid_t child = fork();
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, nullptr);
        std::vector<char*> cargv;
        for (std::string& w : argv) cargv.push_back(w.data());
        cargv.push_back(nullptr);
        execvp(cargv[0], cargv.data());
        std::cerr << "damonctl: " << argv[0] << ": " << std::strerror(errno) << '\n';
        _exit(127);
    }
    int exit_code = kFailed;
    if (child < 0) {
        std::cerr << "damonctl: cannot start " << argv[0] << ": " << std::strerror(errno) << '\n';
    } else {
        // Keep reading the bus meanwhile, so its messages never pile up.
        for (bool running = true; running;) {
            while (d.connection().processPendingRequest()) {
            }
            const auto pd = d.connection().getEventLoopPollData();
            pollfd fds[] = {{pd.fd, static_cast<short>(pd.events), 0}, {sigfd, POLLIN, 0}};
            if (poll(fds, 2, pd.getPollTimeout()) < 0 && errno != EINTR) break;
            if (fds[1].revents & POLLIN) {
                signalfd_siginfo si{};
                if (read(sigfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD) kill(child, int(si.ssi_signo));
            }
            int status = 0;
            if (waitpid(child, &status, WNOHANG) == child) {
                exit_code = status_to_exit(status);
                running = false;
            }
        }
    }
    close(sigfd);
    try {
        call([&] { d.manager().ReleasePause(cookie); });
    } catch (const Failure& f) {
        std::cerr << "damonctl: releasing hold " << cookie << ": " << f.what() << '\n';
        if (exit_code == 0) exit_code = f.code();
    }
    return exit_code;
}

}  // namespace damonctl
