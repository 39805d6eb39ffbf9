// Apps with a foreground and a background context each, made from the
// config's profiles. Exactly one of an app's two contexts runs, the other is
// paused — never stopped, so neither loses what it has learned — and a
// switch between them is one transaction. Runs on the manager's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/histogram.hpp"
#include "base/pid_watcher.hpp"
#include "manager/app_reclaimer.hpp"
#include "manager/config.hpp"
#include "manager/manager.hpp"

namespace damond {

enum class AppState { Foreground, Background };
const char* to_string(AppState state);
// What AppStateChanged reports: a state, or that the app went away.
enum class AppTransition { Foreground, Background, Gone };
const char* to_string(AppTransition transition);
AppTransition transition_to(AppState state);
// Throws DamondError(InvalidArgument) naming the word for anything else.
AppState app_state_from_string(const std::string& word);

struct AppInfo {
    std::string app_id;
    AppState state = AppState::Background;
    std::vector<uint32_t> pids;
    std::string foreground_context;
    std::string background_context;
    uint64_t last_switch_us = 0;
    std::string foreground_profile, background_profile;
    std::string caller;                        // who registered it ("uid N"), "" for damond and event sources
    Ownership owner;                           // who it was registered for: its contexts' owner (access_rules.hpp)
    std::map<uint32_t, uint64_t> start_times;  // pid -> start time, so a reused pid is told apart
    // Since it was registered (this run of damond): switches done, and time
    // in the foreground up to its last switch (see AppRegistry::foreground_us).
    uint64_t switches = 0;
    uint64_t foreground_us_before_last_switch = 0;
};

// How soon a change to the apps must be saved: registrations, removals and a
// process's exit (Now) must survive a crash; which app is in the foreground
// (Soon) need not, the next focus event brings it back, and a phone's flash
// should not see an fsync per focus change.
enum class Durability { Now, Soon };

class AppListener {
public:
    virtual ~AppListener() = default;
    // After every change to the apps, for persistence.
    virtual void apps_changed(Durability) {}
    virtual void app_added(const std::string& app_id) = 0;
    virtual void app_removed(const std::string& app_id) = 0;
    // One of the app's processes exited and others remain.
    virtual void app_pids_changed(const std::string&) {}
    // `now` is Gone when the app went away.
    virtual void app_state_changed(const std::string& app_id, AppState old_state, AppTransition now) = 0;
    // Its reclaim figures changed (AppRegistry::reclaim_figures).
    virtual void app_reclaim_changed(const std::string&) {}
};

class AppRegistry {
public:
    using Schedule = std::function<void(uint64_t, std::function<void()>)>;
    // Everything the registry works with, given whole at construction (a
    // missing part is refused with std::invalid_argument naming it).
    struct Parts {
        AppsConfig config;
        // The clock of switches and debouncing (CLOCK_MONOTONIC µs). Required.
        std::function<uint64_t()> now_us;
        // Hands work to the registry's thread from any thread: a watched
        // process that exits unregisters its app there. Required.
        std::function<void(std::function<void()>)> post;
        // `schedule(at_us, fn)` runs fn on the registry's thread at or after
        // at_us (on the now_us clock): debounced switches. Required.
        Schedule schedule;
        // Hears every change. Required; outlives the registry.
        AppListener* listener = nullptr;
        // Pages out what background apps use in neither phase (apps.reclaim).
        // Required (live_reclaim_system() in damond).
        std::shared_ptr<ReclaimSystem> reclaim_system;
    };
    AppRegistry(Manager& manager, Parts parts);

    // A reload's: for registrations and switches from here on.
    void set_config(AppsConfig config) {
        reclaimer_->set_config(config.reclaim);
        config_ = std::move(config);
    }
    // The app's reclaim figures, nullptr before its first.
    const AppReclaimer::Figures* reclaim_figures(const std::string& app_id) const {
        return reclaimer_->figures(app_id);
    }
    // apps.reclaim.enabled, or its rule's "reclaim".
    bool reclaims(const std::string& app_id) const;
    // The cgroup apps.reclaim.freeze may freeze: its rule's, unless that one
    // is a freezer event source; "" for none.
    std::string own_cgroup(const std::string& app_id) const;
    using Durability = damond::Durability;

    // Every call that changes apps is asynchronous, `done` running on the
    // registry's thread once the contexts have followed (kernel contexts
    // take their time); finish_here.hpp waits for one.
    using Done = Manager::Done;

    // Creates the app's two contexts, the background one running. Profiles
    // come from the arguments, else the app's rule, else the default pair.
    // Processes: `pid` if given, else those of the rule's cgroup or
    // executable; each is watched and the app goes when the last one exits.
    // A profile that watches a process watches the first of them.
    // Fails with DamondError: Busy (registered already), NotSupported (no
    // profile pair), InvalidArgument (a dead pid), or whatever creating a
    // context throws; on error nothing is left behind.
    // `who` (Requester::limits_key) counts toward limits.apps_per_caller;
    // every app counts toward limits.apps (Manager::limits). The app is
    // registered for `who`: the process its profiles watch must be one `who`
    // may watch (access_rules.hpp; AccessDenied otherwise) — a given pid,
    // or of those found by the rule the first such.
    void register_app(const std::string& app_id, uint32_t pid, const std::string& foreground_profile,
                      const std::string& background_profile, Done done, const Requester& who = Requester::damond());
    // The same with the processes already known (event sources that found
    // the app in a cgroup), for the user whose cgroup holds them.
    void register_app_pids(const std::string& app_id, const std::vector<uint32_t>& pids, Done done,
                           const Requester& for_user);
    void unregister_app(const std::string& app_id, const std::string& reason, Done done);
    // Switches the app; `switched` says false when it already was in that
    // state. The context of the new state is resumed first, and `done` runs
    // once it runs: the app is switched then (AppStateChanged has gone out).
    // The other context is paused after, nobody waiting; should that fail,
    // the app stays switched and that context names the failure (LastError,
    // the journal). Should the resume fail, nothing changed: the app keeps
    // its state and its running context, and `done` gets the error.
    // Switches of one app run one after the other, in the order asked (a
    // switch begins once the previous one's pause is done). With
    // one_foreground, a new foreground app sends the previous one to
    // background, a switch of its own after this one's reply. Fails with NoSuchApp unless the app is known or a rule
    // names it and auto_register is on (then `pid` is used).
    // With apps.debounce_ms, an event within that time of the app's last
    // switch waits for the end of it, and only the last such event counts:
    // flapping collapses into at most one switch per period (switched is
    // false then too).
    using Switched = std::function<void(std::exception_ptr, bool switched)>;
    // An app registered on the way is registered for `who`.
    void set_app_state(const std::string& app_id, AppState state, uint32_t pid, Switched done,
                       const Requester& who = Requester::damond());
    // For event sources (freezer, desktop): registers an app they found with
    // its processes if needed, whatever auto_register says, for the user
    // whose cgroup holds it (uid_of_cgroup), then switches.
    void source_event(const std::string& app_id, AppState state, const std::vector<uint32_t>& pids,
                      const std::string& cgroup, Switched done);

    // After a restart: registers the app again with those of its processes
    // that still run (same pid and start time) and puts it in its state.
    // `done` gets why it was not restored, if it was not (its processes are
    // gone: Failed).
    void restore_app(const std::string& app_id, AppState state,
                     const std::vector<std::pair<uint32_t, uint64_t>>& processes, const std::string& fg_profile,
                     const std::string& bg_profile, const std::string& caller, const Ownership& owner, Done done);

    bool has_app(const std::string& app_id) const { return apps_.count(app_id) != 0; }
    const AppInfo& app(const std::string& app_id) const;
    std::vector<AppInfo> list() const;
    // Without copies, for readers that look at every app (the metrics).
    const std::map<std::string, AppInfo>& apps() const { return apps_; }
    std::string foreground_app() const;
    // Time the app has spent in the foreground since it was registered, the
    // present stay included.
    uint64_t foreground_us(const AppInfo& info) const;
    // How long switches took, from the pause of one context to the resume of
    // the other, in seconds; and how many failed.
    const Histogram& switch_seconds() const { return switch_seconds_; }
    uint64_t failed_switches() const { return failed_switches_; }

    static std::string context_name(const std::string& app_id, AppState state);

private:
    const AppRule* rule_for(const std::string& app_id) const;
    ContextSpec instantiate(const std::string& profile, uint32_t pid) const;
    void notify(const std::string& app_id, AppState old_state, AppTransition now);
    // `restored`: the ownership of a restart's app (admitted before).
    void do_register(const std::string& app_id, std::vector<uint32_t> pids, bool pids_given,
                     const std::string& fg_profile, const std::string& bg_profile, Done done, const Requester& who,
                     const Ownership* restored = nullptr);
    // Throws LimitExceeded when no more apps may register (for `caller`).
    void check_app_limits(const std::string& caller) const;
    // Queues a switch behind the app's others.
    void request_switch(const std::string& app_id, AppState state, Switched done);
    void next_switch(const std::string& app_id);
    // `answer` once the app's new context runs (or the switch failed, and
    // nothing changed); `settled` once the old one is paused too.
    void switch_now(const std::string& app_id, AppState state, Switched answer, std::function<void()> settled);
    void resume_for_switch(const std::string& app_id, AppState state, Switched answer, std::function<void()> settled);
    // Records a switch done: the app's state, its counts, the signal.
    void switched(const std::string& app_id, AppState state, uint64_t started_us);
    // The recents (apps.recent_apps): an app that left the foreground comes
    // first, its foreground context marked likely to resume soon; one pushed
    // out of them is marked back.
    void left_foreground(const std::string& app_id);
    void forget_recent(const std::string& app_id);
    void debounce_fired(const std::string& app_id);
    void pid_exited(const std::string& app_id, uint32_t pid);
    void unwatch_all(const std::string& app_id, const std::vector<uint32_t>& pids);

    Manager& manager_;
    AppsConfig config_;
    std::function<uint64_t()> now_us_;
    std::function<void(std::function<void()>)> post_;
    Schedule schedule_;
    AppListener& listener_;
    std::map<std::string, AppInfo> apps_;
    std::unique_ptr<PidWatcher> watcher_;
    void changed(Durability d = Durability::Now) { listener_.apps_changed(d); }
    std::map<std::string, uint64_t> debounce_until_;  // app -> end of its quiet period
    std::map<std::string, AppState> pending_;         // the last event waiting for that end
    std::set<std::string> timer_armed_;
    std::set<std::string> registering_;                       // between the request and both contexts being there
    std::map<std::string, std::string> registering_callers_;  // their callers, for the limits
    // Switches asked for while one of the app's runs.
    struct SwitchRequest {
        AppState state;
        Switched done;
    };
    std::map<std::string, std::deque<SwitchRequest>> switch_queue_;
    std::set<std::string> switching_;
    std::deque<std::string> recent_;  // the apps that left the foreground, latest first
    std::unique_ptr<AppReclaimer> reclaimer_;
    Histogram switch_seconds_{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
    uint64_t failed_switches_ = 0;
};

}  // namespace damond
