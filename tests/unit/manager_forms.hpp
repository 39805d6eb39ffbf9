// The manager and the app registry as tests use them: built from parts with
// test defaults, and their operations waited for (synchronous forms live
// here, not in the daemon, which answers in `done`).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "manager/app_registry.hpp"
#include "manager/finish_here.hpp"
#include "manager/manager.hpp"

namespace damond::testing {

// A listener that hears nothing, for tests that look only at the manager.
struct DeafListener : ManagerListener, AppListener {
    void context_added(const std::string&) override {}
    void context_removed(const std::string&) override {}
    void context_changed(const std::string&, const std::vector<ContextField>&) override {}
    void app_added(const std::string&) override {}
    void app_removed(const std::string&) override {}
    void app_state_changed(const std::string&, AppState, AppTransition) override {}
};
inline DeafListener& deaf() {
    static DeafListener listener;
    return listener;
}

// Runs posted work at once, on whichever thread posts it: for monitors that
// do not block (their operations end before the call returns).
inline void run_here(std::function<void()> fn) { fn(); }

// A manager's parts for tests: its clock stands still and what it schedules
// never fires, unless a test gives its own.
inline ManagerParts test_parts(MonitorFactory make, Poster post = run_here, ManagerListener* listener = &deaf()) {
    ManagerParts parts;
    parts.make_monitor = std::move(make);
    parts.post = std::move(post);
    parts.listener = listener;
    parts.schedule = [](uint64_t, std::function<void()>) {};
    parts.now_us = [] { return uint64_t{0}; };
    return parts;
}

inline AppRegistry::Parts test_app_parts(AppsConfig config, std::function<uint64_t()> now_us,
                                         AppListener* listener = &deaf()) {
    AppRegistry::Parts parts;
    parts.config = std::move(config);
    parts.now_us = std::move(now_us);
    parts.post = run_here;
    parts.schedule = [](uint64_t, std::function<void()>) {};
    parts.listener = listener;
    parts.reclaim_system = live_reclaim_system();
    return parts;
}

// Without a loop to turn, an operation that has not ended by the time it
// returns never will: say so rather than wait.
inline void nothing_to_turn() {
    throw std::logic_error("the operation did not end by itself: give the forms a Turn of the loop it posts to");
}

class ManagerForms {
public:
    explicit ManagerForms(Manager& m, Turn turn = nothing_to_turn) : m_(m), turn_(std::move(turn)) {}

    void create_context(const std::string& name, const std::string& spec_json,
                        const Requester& who = Requester::damond()) {
        wait([&](Manager::Done d) { m_.create_context(name, spec_json, d, who); });
    }
    void remove_context(const std::string& name) {
        wait([&](Manager::Done d) { m_.remove_context(name, d); });
    }
    void pause_context(const std::string& name) {
        wait([&](Manager::Done d) { m_.pause_context(name, d); });
    }
    void resume_context(const std::string& name) {
        wait([&](Manager::Done d) { m_.resume_context(name, d); });
    }
    void commit_context(const std::string& name, const std::string& patch_json,
                        const Requester& who = Requester::damond()) {
        wait([&](Manager::Done d) { m_.commit_context(name, patch_json, d, who); });
    }
    std::string snapshot_json(const std::string& name) {
        std::string out;
        wait([&](Manager::Done d) {
            m_.snapshot_json(name, [&out, d](std::exception_ptr e, std::string json) {
                out = std::move(json);
                d(e);
            });
        });
        return out;
    }
    MonitorSnapshot snapshot(const std::string& name) {
        snapshot_json(name);
        return m_.last_snapshot(name);
    }
    uint32_t hold_pause(const std::string& context, const std::string& who, const std::string& why,
                        const std::string& owner = "") {
        uint32_t cookie = 0;
        wait([&](Manager::Done d) {
            m_.hold_pause(context, who, why, owner, [&cookie, d](std::exception_ptr e, uint32_t c) {
                cookie = c;
                d(e);
            });
        });
        return cookie;
    }
    void release_pause(uint32_t cookie, const std::string* only_context = nullptr) {
        wait([&](Manager::Done d) { m_.release_pause(cookie, only_context, d); });
    }
    std::vector<std::string> apply_config(const Config& config) {
        std::vector<std::string> out;
        wait([&](Manager::Done d) {
            m_.apply_config(config, [&out, d](std::vector<std::string> errors) {
                out = std::move(errors);
                d(nullptr);
            });
        });
        return out;
    }
    void stop_all(bool for_restart = false) {
        wait([&](Manager::Done d) { m_.stop_all(for_restart, [d] { d(nullptr); }); });
    }
    void restore_holds(const std::vector<PauseHold>& holds, uint32_t next_cookie) {
        wait([&](Manager::Done d) { m_.restore_holds(holds, next_cookie, d); });
    }

private:
    void wait(const std::function<void(Manager::Done)>& start) { finish_here(start, turn_); }
    Manager& m_;
    Turn turn_;
};

class AppForms {
public:
    explicit AppForms(AppRegistry& apps, Turn turn = nothing_to_turn) : apps_(apps), turn_(std::move(turn)) {}

    void register_app(const std::string& app_id, uint32_t pid, const std::string& foreground_profile = "",
                      const std::string& background_profile = "") {
        wait([&](Manager::Done d) { apps_.register_app(app_id, pid, foreground_profile, background_profile, d); });
    }
    void unregister_app(const std::string& app_id, const std::string& reason = "gone") {
        wait([&](Manager::Done d) { apps_.unregister_app(app_id, reason, d); });
    }
    bool set_app_state(const std::string& app_id, AppState state, uint32_t pid = 0) {
        bool switched = false;
        wait([&](Manager::Done d) {
            apps_.set_app_state(app_id, state, pid, [&switched, d](std::exception_ptr e, bool s) {
                switched = s;
                d(e);
            });
        });
        return switched;
    }

private:
    void wait(const std::function<void(Manager::Done)>& start) { finish_here(start, turn_); }
    AppRegistry& apps_;
    Turn turn_;
};

}  // namespace damond::testing
