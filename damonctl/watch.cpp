// `watch`: damond's state changes as they happen, one line each, from its
// signals (contexts added and removed, their state, errors, specs and holds;
// app switches; the foreground app; manager-wide holds; damond itself
// coming and going).
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "bus_label.hpp"
#include "commands.hpp"

namespace damonctl {

using nlohmann::json;

namespace {

std::string timestamp() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm local{};
    localtime_r(&ts.tv_sec, &local);
    char buf[40];
    const size_t n = strftime(buf, sizeof buf, "%H:%M:%S", &local);
    std::snprintf(buf + n, sizeof buf - n, ".%03ld", ts.tv_nsec / 1000000);
    return buf;
}

class Printer {
public:
    Printer(bool json, long count) : json_(json), left_(count) {}
    // One event: what it is about (kind and name) and what happened.
    void event(const std::string& kind, const std::string& name, const std::string& what,
               json detail = json::object()) {
        if (done()) return;
        if (json_) {
            detail["time"] = timestamp();
            detail["kind"] = kind;
            detail["name"] = name;
            detail["event"] = what;
            std::cout << detail.dump() << '\n';
        } else {
            std::cout << timestamp() << ' ' << kind << (name.empty() ? "" : " " + name) << ' ' << what << '\n';
        }
        std::cout.flush();
        if (left_ > 0) --left_;
    }
    bool done() const { return left_ == 0; }

private:
    bool json_;
    long left_;  // events still to print, -1 for no end
};

std::string holds_text(const Properties& changed) {
    const auto holds = prop<HoldsList>(changed, "PauseHolds");
    std::string s = "holds " + std::to_string(holds.size());
    for (const auto& h : holds) s += (s.back() == ':' ? " " : ": ") + h.get<2>();
    return s;
}

}  // namespace

int cmd_watch(Args& a) {
    const std::string count = a.option("count", "-1");
    a.expect(0, "damonctl watch [--json] [--count N]");
    long n = -1;
    try {
        n = std::stol(count);
    } catch (const std::exception&) {
        throw Failure(kUsage, "--count: '" + count + "' is not a number");
    }
    Printer out(a.json, n);
    Damond d(true);
    ManagerProxy& m = d.manager();
    m.on_context = [&](const std::string& name, bool added) {
        out.event("context", name, added ? "added" : "removed");
    };
    m.on_app_state = [&](const std::string& app, const std::string& old, const std::string& now) {
        out.event("app", app, now == "gone" ? "unregistered" : now, {{"old", old}, {"new", now}});
    };
    m.on_properties = [&](const std::string& iface, const Properties& changed) {
        if (iface != "org.damond1.Manager") return;
        if (changed.count("ForegroundApp")) {
            const std::string fg = prop<std::string>(changed, "ForegroundApp");
            out.event("daemon", "", "foreground app " + (fg.empty() ? std::string("none") : fg),
                      {{"foreground_app", fg}});
        }
        if (changed.count("PauseHolds")) out.event("daemon", "", holds_text(changed));
    };
    // Every context's PropertiesChanged through one match, contexts created
    // later included.
    auto context_props = d.connection().addMatch(
        "type='signal',sender='org.damond1',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
        "path_namespace='/org/damond1/context'",
        [&](sdbus::Message& msg) {
            std::string iface;
            Properties changed;
            msg >> iface >> changed;
            const std::string path = msg.getPath();
            const auto name = damond::bus_label_unescape(path.substr(std::string(damond::kContextPathPrefix).size()));
            const std::string ctx = name ? *name : path;
            if (changed.count("State")) {
                const std::string s = prop<std::string>(changed, "State");
                out.event("context", ctx, s, {{"state", s}});
            }
            if (changed.count("LastError") && !prop<std::string>(changed, "LastError").empty())
                out.event("context", ctx, "error: " + prop<std::string>(changed, "LastError"));
            // A pause or resume changes the spec's "pause" too: said by the state.
            if (changed.count("Spec") && !changed.count("State")) out.event("context", ctx, "spec committed");
            if (changed.count("PauseHolds")) out.event("context", ctx, holds_text(changed));
        });
    auto owner = d.connection().addMatch(
        "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',"
        "arg0='org.damond1'",
        [&](sdbus::Message& msg) {
            std::string name, old_owner, new_owner;
            msg >> name >> old_owner >> new_owner;
            out.event("daemon", "", new_owner.empty() ? "left the bus" : "on the bus");
        });

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGPIPE);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    const int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    std::cerr << "watching damond; Ctrl-C ends" << std::endl;  // on stderr: --json output stays JSON
    while (!out.done()) {
        while (!out.done() && d.connection().processPendingRequest()) {
        }
        if (out.done() || !std::cout) break;
        const auto pd = d.connection().getEventLoopPollData();
        pollfd fds[] = {{pd.fd, static_cast<short>(pd.events), 0}, {sigfd, POLLIN, 0}};
        poll(fds, 2, pd.getPollTimeout());
        if (fds[1].revents & POLLIN) break;
    }
    close(sigfd);
    return kOk;
}

}  // namespace damonctl
