// The manager owns every context: its spec, its monitor and its last error.
// It runs on the thread that owns all state; the D-Bus layer calls it and
// listens to it, and knows nothing the manager does not tell it.
#pragma once

#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bus_call_counts.hpp"
#include "base/errors.hpp"
#include "base/log.hpp"
#include "manager/access_rules.hpp"
#include "manager/call_watchdog.hpp"
#include "manager/config.hpp"
#include "manager/context_thread.hpp"
#include "manager/figure_history.hpp"
#include "manager/pause_holds.hpp"
#include "monitor/backend_facts.hpp"
#include "monitor/context_figures.hpp"
#include "monitor/monitor.hpp"

namespace damond {

enum class ContextField { State, Spec, LastError, Holds, Stats };

// What happened to a context since damond created it (counters restart with
// damond, as Prometheus expects of counters).
struct ContextCounters {
    uint64_t pauses = 0;   // Running -> Paused, however it came about
    uint64_t resumes = 0;  // Paused -> Running
    uint64_t commits_ok = 0;
    uint64_t commits_invalid = 0;  // refused by damond's own rules
    uint64_t commits_failed = 0;   // refused by the backend
    uint64_t paused_us = 0;        // time spent paused before the current pause
    bool operator==(const ContextCounters&) const = default;
};

// Who hears of the manager's changes (the bus, persistence, the status line).
class ManagerListener {
public:
    virtual ~ManagerListener() = default;
    virtual void context_added(const std::string& name) = 0;
    virtual void context_removed(const std::string& name) = 0;
    virtual void context_changed(const std::string& name, const std::vector<ContextField>& fields) = 0;
    // A pause hold was taken or released (the manager-wide list changed).
    virtual void holds_changed() {}
    // After any of the above and any other change: the moments status_text()
    // may change, so nobody has to poll it. `kept` is true when what
    // persistence keeps changed too (contexts, specs, holds), not just a
    // state or an error.
    virtual void changed(bool /*kept*/) {}
};

struct ContextInfo {
    std::string name;
    MonitorState state;
};

// Builds the monitor for a validated spec; throws DamondError when the
// backend cannot run it.
using MonitorFactory = std::function<std::unique_ptr<Monitor>(const std::string& name, const ContextSpec&)>;
// Hands a piece of work to the manager's own thread.
using Poster = std::function<void(std::function<void()>)>;

// Everything a manager works with, given whole at construction: there is
// nothing to wire afterwards, and a missing part is refused at once
// (std::invalid_argument naming it) rather than silently doing nothing.
struct ManagerParts {
    Backend backend = Backend::InProcess;
    // Why damond runs on that backend, for status and the Backend property.
    std::string backend_reason;
    // Builds the monitor for a validated spec. Required.
    MonitorFactory make_monitor;
    // Carries monitor events (a target exited, ...) and the ends of
    // operations back to the manager's thread, from any thread. Required.
    Poster post;
    // `schedule(delay_ms, fn)` runs fn on the manager's thread after that
    // long: settling (Monitor::settle_after_ms) and owner checks. Required.
    std::function<void(uint64_t delay_ms, std::function<void()>)> schedule;
    // The clock of state_since_us and paused time (CLOCK_MONOTONIC µs in
    // damond). Required.
    std::function<uint64_t()> now_us;
    // Hears every change. Required; outlives the manager.
    ManagerListener* listener = nullptr;
    // What the backend knows of the machine (must not block, see
    // BackendFacts); empty: nothing known.
    std::function<BackendFacts()> facts;
    // Shown after the backend in status_text(), e.g. the kernel's pause
    // mode; empty: nothing shown.
    std::function<std::string()> backend_detail;
    // Limits until the first apply_config() says otherwise.
    Limits limits;
};

class Manager {
public:
    explicit Manager(ManagerParts parts);
    ~Manager();

    Backend backend() const { return backend_; }
    // The config's limits (manager/config.hpp, set by apply_config); calls
    // past one fail with LimitExceeded, and nothing changes.
    const Limits& limits() const { return limits_; }
    // Who created each context created over the bus, for persistence.
    std::map<std::string, std::string> context_callers() const;
    const std::string& backend_reason() const { return backend_reason_; }
    BackendFacts backend_facts() const;

    // Every operation that drives a monitor is asynchronous: it is queued
    // behind the context's earlier ones; a monitor that may block (the
    // kernel's) runs it on the context's own thread while this thread goes
    // on, and `done` runs on this thread once it has finished, with its
    // error if any. Other monitors finish before the call returns. Errors
    // found before anything runs (no such context, a bad spec) go to `done`
    // as well. To wait for one (start-up, tests), see finish_here.hpp.
    using Done = std::function<void(std::exception_ptr)>;
    // `who` counts the context toward its limits.contexts_per_caller
    // (Requester::limits_key), must be admitted to its targets
    // (access_rules.hpp: AccessDenied otherwise) and owns it.
    void create_context(const std::string& name, const std::string& spec_json, Done done,
                        const Requester& who = Requester::damond());
    // A spec built in damond (an app's profile with its process), for an
    // owner admitted already: no JSON.
    void create_context(const std::string& name, const ContextSpec& spec, Done done, const Ownership& owner = {});
    void remove_context(const std::string& name, Done done);
    void pause_context(const std::string& name, Done done);
    // An app switch's pause: nobody reads the context at once, so where
    // reading its regions first costs, that is left out (Monitor::pause_unread).
    void pause_context_unread(const std::string& name, Done done);
    // Whether the context is likely resumed soon (Monitor::set_quick_resume),
    // in its turn after the operations queued before.
    void set_quick_resume(const std::string& name, bool quick, Done done);
    void resume_context(const std::string& name, Done done);
    // A commit that changes what the context watches admits `who` to the
    // new targets, and the owner too when `who` is someone else.
    void commit_context(const std::string& name, const std::string& patch_json, Done done,
                        const Requester& who = Requester::damond());
    // The snapshot as JSON; while an operation on the context runs, the last
    // one taken.
    void snapshot_json(const std::string& name, std::function<void(std::exception_ptr, std::string)> done);
    // The snapshot as the monitor gives it, taken once the operations queued
    // before it have run (damond's own use: an app's reclaim acts on what the
    // contexts saw, never on an older reading handed back meanwhile).
    void snapshot(const std::string& name, std::function<void(std::exception_ptr, MonitorSnapshot)> done);
    // The processes the context watches, in its targets' order (0 for a
    // target that is no process).
    std::vector<uint32_t> target_pids(const std::string& name) const;
    // Pause holds. A context runs only when its spec says so and no hold
    // covers it; Pause/Resume/Commit and app switches change what the spec
    // says, holds change nothing but whether that can take effect. context
    // "" holds every context, those created later too. Fails with
    // NoSuchContext, or InvalidArgument naming who/why; a hold on one
    // context whose monitor cannot pause is not kept. `done` runs once every
    // context it covers is paused.
    void hold_pause(const std::string& context, const std::string& who, const std::string& why,
                    const std::string& owner, std::function<void(std::exception_ptr, uint32_t)> done);
    // Fails with NoSuchHold; with a context, also for a cookie of another hold.
    void release_pause(uint32_t cookie, const std::string* only_context, Done done);
    // Brings the contexts the config names in line with it: new ones are
    // created, changed ones committed (keeping a runtime pause), dropped ones
    // removed. Contexts created over the bus are left alone. `done` gets the
    // errors met, one line each.
    void apply_config(const Config& config, std::function<void(std::vector<std::string>)> done);
    // Stops every context, all at once; `done` runs when they have all
    // stopped. `for_restart`: damond will come back and restore its state,
    // so a backend may leave its monitoring running to be adopted.
    void stop_all(bool for_restart, std::function<void()> done);
    // Releases every hold taken by that bus name; returns how many.
    size_t release_holds_of(const std::string& owner);

    // The snapshot last taken (by snapshot_json or a read-back), without
    // waiting for the monitor.
    const MonitorSnapshot& last_snapshot(const std::string& name) const { return get(name).last_snapshot; }

    std::vector<PauseHold> holds() const { return holds_.all(); }
    uint32_t next_hold_cookie() const { return holds_.next_cookie(); }
    // After a restart, before contexts are created: they start held. `done`
    // runs once the contexts there already (the config's) are held.
    void restore_holds(const std::vector<PauseHold>& holds, uint32_t next_cookie, Done done);

    // For persistence: contexts created over the bus (not apps') with their current spec
    // (pause wish included), and config contexts whose pause wish differs
    // from the config's.
    std::map<std::string, ContextSpec> runtime_contexts() const;
    std::map<std::string, bool> config_pause_wishes() const;
    // The context's checkpoint (see Monitor::checkpoint), "" if it has none
    // or an operation on it is under way.
    std::string checkpoint(const std::string& name) const;
    // While set, a context being created warm-starts from the checkpoint this
    // returns for its name ("" for none): for the contexts of a restart.
    void set_checkpoint_source(std::function<std::string(const std::string&)> source) {
        checkpoint_source_ = std::move(source);
    }
    // While set, contexts being created are a restart's: logged as restored,
    // so counting creations in the journal does not count restarts.
    // Limits are not applied to them: what was acknowledged before stays.
    void set_restoring(bool restoring) { restoring_ = restoring; }
    bool restoring() const { return restoring_; }
    std::vector<PauseHold> holds_on(const std::string& name) const { return holds_.covering(name); }

    // A context being created is not there yet, but its name is taken.
    bool has_context(const std::string& name) const;
    bool name_taken(const std::string& name) const { return contexts_.count(name) != 0; }
    std::vector<ContextInfo> list_contexts() const;
    MonitorState state(const std::string& name) const;
    // The spec as everyone may read it: without the explicit target regions
    // of a context whose regions are private (access_rules.hpp), which read
    // as [] ("keep the current regions" in a commit).
    std::string spec_json(const std::string& name) const;
    // All of it, for those check_read admits.
    std::string full_spec_json(const std::string& name) const;
    // Throws AccessDenied unless `who` may read the context's region data:
    // its snapshot, its full spec. Root, the owner (while the owner may
    // still watch its targets: checked now, and a context whose target
    // changed hands is stopped), or a requester the authority grants
    // read-others. Synthetic contexts' regions are made up: everyone.
    void check_read(const std::string& name, const Requester& who);
    const Ownership& ownership(const std::string& name) const { return get(name).owner; }
    // After a restart: the owner the context had (restoring admits nobody).
    void restore_ownership(const std::string& name, const Ownership& owner);
    // Checks every context watching processes for an owner the rule admitted
    // whether the owner still may (the target may have run a setuid program
    // or turned dumping off since); stops those that lost it, naming why in
    // LastError. Runs by itself every intervals.update_us of those contexts
    // (100 ms to 1 s apart); public for tests.
    void check_owners();
    std::string last_error(const std::string& name) const;
    std::string access_source(const std::string& name) const;
    std::string access_source_reason(const std::string& name) const;
    // The backend this context runs on, and why when it is not the daemon's.
    std::string context_backend(const std::string& name) const;
    std::string context_backend_reason(const std::string& name) const;
    // When the context's state last changed (its creation first), on the
    // ManagerParts::now_us clock.
    uint64_t state_since_us(const std::string& name) const { return get(name).state_since_us; }
    // Samples, aggregations and regions as last known: never waits for the
    // monitor (while an operation runs, from the last snapshot).
    MonitorStats context_stats(const std::string& name) const;
    // The figures of its last aggregation or read-back (never waits).
    ContextFigures context_figures(const std::string& name) const;
    // Counters change only with events, so a reader may cache them:
    // paused_us leaves out the pause under way, which paused_us() includes.
    ContextCounters context_counters(const std::string& name) const { return get(name).counters; }
    uint64_t paused_us(const std::string& name) const;
    // Tells the listener (ContextField::Stats) about every context whose
    // figures moved on since it was last told: called on a timer, it makes
    // Stats change at most once per aggregation and per tick. Returns
    // whether any context is running (the timer may rest otherwise).
    bool announce_stats();
    // Brings the figures of running kernel contexts up to date: a read-back
    // each, queued like any operation (in-process figures are always fresh).
    void refresh_figures();
    // Operations queued or running, over every context: for shutdown.
    size_t operations_under_way() const;

    // Each context's working set and idle p90 over time (metrics.history_*).
    FigureHistory& history() { return history_; }
    const FigureHistory& history() const { return history_; }
    // A point for every context now (`unix_us`, CLOCK_REALTIME): called
    // every history step.
    void record_history(uint64_t unix_us);

    // Bus calls answered, for the metrics: the bus glue counts them here.
    BusCallCounts& bus_calls() { return bus_calls_; }
    const BusCallCounts& bus_calls() const { return bus_calls_; }

    // "3 contexts, 1 paused, backend kernel (watermarks)": for sd_notify STATUS=.
    std::string status_text() const;

private:
    // One operation on a context: what runs on the monitor (on the
    // context's thread for a blocking one) and what follows on this thread.
    struct Operation {
        std::function<void(Monitor&)> run;
        std::function<void()> succeeded = {};                 // may be empty
        std::function<void(const DamondError&)> failed = {};  // may be empty; `done` hears of it too
    };
    // Makes the operation when its turn comes, so it sees the spec as the
    // operations ahead of it left it; nullopt when there is nothing to do,
    // a throw when it is refused (nothing runs).
    using MakeOperation = std::function<std::optional<Operation>()>;
    struct Step {
        MakeOperation make;
        Done done;  // once, with the error if any (the context went: NoSuchContext)
        uint64_t submitted_us = 0;
    };
    // How the context's last operation went, for the journal: how long it
    // waited behind others, how long it ran, and its kernel calls.
    struct OperationTimes {
        uint64_t queued_us = 0;
        uint64_t ran_us = 0;
        std::string calls;  // CallTrace::text(), "" for a monitor without one
    };
    struct ManagedContext {
        ContextSpec spec;
        std::unique_ptr<Monitor> monitor;
        std::string last_error;
        bool from_config = false;
        std::string caller;                     // who created it over the bus ("uid N"), "" for damond
        Ownership owner;                        // who may read its regions (access_rules.hpp)
        std::string access_lost;                // why its owner may no longer watch its target, "" while it may
        bool counted = false;                   // from a caller's JSON: toward limits.contexts, kept by persistence
        bool starting = true;                   // until its monitor has started
        ContextSpec config_spec;                // as the config last said, to detect changes
        std::unique_ptr<ContextThread> thread;  // for blocking monitors
        bool op_in_progress = false;
        // The operation under way on the thread: its watchdog ticket (0 for
        // none), whether the runner gave it up, and how it ends.
        uint64_t ticket = 0;
        std::shared_ptr<bool> given_up;
        std::function<void(std::exception_ptr)> conclude;
        std::deque<Step> queue;
        uint64_t generation = 0;     // counts operations, so a late settle knows it is stale
        uint64_t op_started_us = 0;  // when the operation under way was launched
        OperationTimes last_op;
        MonitorSnapshot last_snapshot;  // answered while an operation runs
        bool event_reported = false;    // monitor_event's last report, to say each change once
        MonitorState event_state = MonitorState::Stopped;
        uint64_t state_since_us = 0;
        MonitorState counted_state = MonitorState::Stopped;  // as the counters last saw it
        ContextCounters counters;
        uint64_t announced_aggregations = UINT64_MAX;  // Stats as last announced
        // spec_json() as last serialised, and of which spec: a status of
        // every context reads every Spec, and serialising is most of that.
        mutable ContextSpec json_of;
        mutable std::string json;
    };

    // The context runner (manager_runner.cpp), the one way a monitor is
    // driven: queues the operation behind the context's others (it runs now
    // if nothing is ahead of it); `launch` runs it on the monitor, here or
    // on the context's thread with the watchdog keeping its deadline, then
    // its succeeded or failed and `done`, all on this thread.
    void submit(const std::string& name, MakeOperation make, Done done);
    void dispatch(const std::string& name);
    void launch(const std::string& name, Operation op, Done done, uint64_t submitted_us);
    // " (queued 0.0 ms, ran 231.9 ms: pause=N 0.2 ms, state=commit 230.1 ms)"
    // for a context whose last operation made kernel calls; "" otherwise.
    std::string last_operation_text(const std::string& name) const;
    void operation_ended(const std::string& name);
    // A call of the context's operation outlived its deadline: the thread is
    // left to itself with the monitor, a GivenUpMonitor answers for it.
    void give_up(const std::string& name, const std::string& error);
    void overdue(uint64_t ticket, const std::string& error);
    void schedule_settle(const std::string& name);

    // `counted`: created from a caller's JSON, so it counts toward
    // limits.contexts (apps' contexts count as apps, the config's not at all).
    void add(const std::string& name, const ContextSpec& spec, bool from_config, Done done,
             const std::string& caller = "", bool counted = false, const Ownership& owner = {});
    // Stops the context for good because its owner lost access to its target.
    void stop_for_privacy(const std::string& name, const std::string& why);
    void arm_owner_checks();
    // Throw LimitExceeded when `caller` may create no more contexts, or
    // take no more holds (or the text is too long).
    void check_context_limits(const std::string& caller) const;
    void check_hold_limits(const std::string& who, const std::string& why, const std::string& owner) const;
    void erase(const std::string& name);
    // Counts a State change (pauses, resumes, time paused) and restarts
    // state_since_us.
    void count_state_change(ManagedContext& ctx);
    // The operations, by name: each made when the context's turn comes.
    Operation start_operation(const std::string& name, bool restored);
    Operation remove_operation(const std::string& name);
    std::optional<Operation> pause_operation(const std::string& name, bool pause, bool read_first);
    Operation commit_operation(const std::string& name, const ContextSpec& spec);
    Operation commit_patch_operation(const std::string& name, const std::string& patch_json, const Requester& who);
    Operation snapshot_operation(const std::string& name, std::shared_ptr<MonitorSnapshot> into);
    std::optional<Operation> reconcile_operation(const std::string& name);
    Operation privacy_stop_operation(const std::string& name);
    static Operation stop_operation(bool for_restart);
    void finish_pause(const std::string& name, bool pause, MonitorState before);
    void finish_commit(const std::string& name, const ContextSpec& spec, MonitorState before);
    void commit_failed(const std::string& name, const DamondError& e);
    // Queues a commit of a whole spec (a reload's).
    void commit_spec(const std::string& name, const ContextSpec& spec, Done done);
    void set_pause(const std::string& name, bool pause, Done done, bool read_first = true);

    ManagedContext& get(const std::string& name);
    const ManagedContext& get(const std::string& name) const;
    void notify(const std::string& name, const std::vector<ContextField>& fields);
    // Queues bringing the monitor in line with spec.pause and the holds.
    void reconcile(const std::string& name, Done done);
    void holds_changed_for(const PauseHold& hold, Done done);
    void monitor_event(const std::string& name);
    // A context's journal fields: CONTEXT=, and KDAMOND= on the kernel.
    LogFields context_log(const char* message_id, const std::string& name) const;

    Backend backend_;
    Limits limits_;
    std::function<uint64_t()> now_us_;
    std::string backend_reason_;
    std::function<std::string()> backend_detail_;
    std::function<BackendFacts()> facts_source_;
    MonitorFactory factory_;
    Poster post_;
    ManagerListener& listener_;
    std::function<void(uint64_t, std::function<void()>)> schedule_;
    void changed(bool kept) { listener_.changed(kept); }
    std::map<std::string, ManagedContext> contexts_;
    PauseHolds holds_;
    std::function<std::string(const std::string&)> checkpoint_source_;
    BusCallCounts bus_calls_;
    FigureHistory history_;
    bool restoring_ = false;
    bool owner_checks_armed_ = false;
    CredsReader read_creds_ = proc_creds_reader();
    CallWatchdog watchdog_;  // last: its thread reports into the rest
};

// Context names: 1..255 bytes, no control characters, no '/'.
void check_context_name(const std::string& name);

// Runs `done` once `count` parts have reported (at once when count is 0),
// with the first error any of them had.
Manager::Done join_parts(size_t count, Manager::Done done);

}  // namespace damond
