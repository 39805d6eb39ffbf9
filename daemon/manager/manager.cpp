#include "manager/manager.hpp"

#include "base/errors.hpp"
#include "base/log.hpp"
#include "manager/or_fail.hpp"
#include "monitor/snapshot_json.hpp"
#include "spec/spec_json.hpp"
#include "spec/spec_limits.hpp"

#include <stdexcept>

namespace damond {

void check_context_name(const std::string& name) {
    if (name.empty() || name.size() > 255)
        throw DamondError(ErrorKind::InvalidArgument, "context name must be 1 to 255 bytes long");
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f || c == '/')
            throw DamondError(ErrorKind::InvalidArgument, "context name must not contain control characters or '/'");
}

// A spec from a caller's JSON: too big is LimitExceeded before parsing, a
// broken rule InvalidSpec, a spec over a limit LimitExceeded.
template <typename Parse>
ContextSpec parse_within_limits(const std::string& text, const SpecLimits& limits, Parse parse) {
    try {
        check_spec_bytes(text.size(), limits);
        ContextSpec spec = parse(text);
        check_spec_limits(spec, limits);
        return spec;
    } catch (const LimitError& e) {
        throw DamondError(ErrorKind::LimitExceeded, e.what());
    } catch (const SpecError& e) {
        throw DamondError(ErrorKind::InvalidSpec, e.what());
    }
}

Manager::Done join_parts(size_t count, Manager::Done done) {
    if (count == 0) {
        done(nullptr);
        return [](std::exception_ptr) {};
    }
    struct State {
        size_t left;
        std::exception_ptr first;
        Manager::Done done;
    };
    auto state = std::make_shared<State>(State{count, nullptr, std::move(done)});
    return [state](std::exception_ptr error) {
        if (error && !state->first) state->first = error;
        if (--state->left == 0) state->done(state->first);
    };
}

namespace {

// A part the manager cannot do without, or why it is refused.
template <typename Part>
Part required(Part part, const char* name, const char* without) {
    if (!part) throw std::invalid_argument(std::string("ManagerParts.") + name + " is missing: without it " + without);
    return part;
}

}  // namespace

Manager::Manager(ManagerParts parts)
    : backend_(parts.backend),
      limits_(parts.limits),
      now_us_(required(std::move(parts.now_us), "now_us", "no state change would have a time")),
      backend_reason_(std::move(parts.backend_reason)),
      backend_detail_(std::move(parts.backend_detail)),
      facts_source_(std::move(parts.facts)),
      factory_(required(std::move(parts.make_monitor), "make_monitor", "no context could be created")),
      post_(required(std::move(parts.post), "post", "no operation of a blocking monitor would end")),
      listener_(*required(parts.listener, "listener", "nobody would hear of a change")),
      schedule_(required(std::move(parts.schedule), "schedule", "no context would settle")),
      watchdog_([this](uint64_t ticket, const std::string& error) {
          post_([this, ticket, error] { overdue(ticket, error); });
      }) {}

Manager::~Manager() {
    // Synchronously, on this thread: nothing is left to hand results to.
    for (auto& [name, ctx] : contexts_) {
        if (ctx.op_in_progress) {
            // Its thread has the monitor, and may be stuck in the kernel:
            // left to itself, it ends the monitor if the call returns.
            if (ctx.thread) {
                if (CallWatch* watch = ctx.monitor->call_watch()) watch->give_up();
                std::shared_ptr<Monitor> stuck(std::move(ctx.monitor));
                ContextThread::abandon(std::move(ctx.thread), [stuck]() mutable { stuck.reset(); });
            }
            continue;
        }
        try {
            ctx.monitor->stop();
        } catch (const std::exception&) {
        }
    }
}

Manager::ManagedContext& Manager::get(const std::string& name) {
    auto it = contexts_.find(name);
    if (it == contexts_.end() || it->second.starting)
        throw DamondError(ErrorKind::NoSuchContext, "no context named '" + name + "'");
    return it->second;
}

const Manager::ManagedContext& Manager::get(const std::string& name) const {
    return const_cast<Manager*>(this)->get(name);
}

bool Manager::has_context(const std::string& name) const {
    auto it = contexts_.find(name);
    return it != contexts_.end() && !it->second.starting;
}

void Manager::count_state_change(ManagedContext& ctx) {
    const uint64_t now = now_us_();
    const MonitorState state = ctx.monitor ? ctx.monitor->state() : MonitorState::Stopped;
    if (ctx.counted_state == MonitorState::Paused) ctx.counters.paused_us += now - std::min(now, ctx.state_since_us);
    if (ctx.counted_state == MonitorState::Running && state == MonitorState::Paused) ctx.counters.pauses++;
    if (ctx.counted_state == MonitorState::Paused && state == MonitorState::Running) ctx.counters.resumes++;
    ctx.counted_state = state;
    ctx.state_since_us = now;
}

void Manager::notify(const std::string& name, const std::vector<ContextField>& fields) {
    if (fields.empty()) return;
    auto it = contexts_.find(name);
    if (it != contexts_.end())
        for (ContextField f : fields)
            if (f == ContextField::State) count_state_change(it->second);
    listener_.context_changed(name, fields);
    // An app's contexts are not kept (the app is, with its state), so their
    // pause and resume on every switch write nothing.
    it = contexts_.find(name);  // the listener may have changed the map
    const bool spec_kept = it != contexts_.end() && (it->second.counted || it->second.from_config);
    bool kept = false;
    for (ContextField f : fields) kept = kept || (f == ContextField::Spec && spec_kept) || f == ContextField::Holds;
    changed(kept);
}

// --- contexts ----------------------------------------------------------------

void Manager::check_context_limits(const std::string& caller) const {
    if (restoring_) return;
    size_t total = 0, mine = 0;
    for (const auto& entry : contexts_) {
        if (!entry.second.counted) continue;
        ++total;
        if (!caller.empty() && entry.second.caller == caller) ++mine;
    }
    if (total >= limits_.contexts)
        throw DamondError(ErrorKind::LimitExceeded, "limits.contexts: " + std::to_string(total) +
                                                        " contexts were created over the bus, the most damond keeps");
    if (!caller.empty() && mine >= limits_.contexts_per_caller)
        throw DamondError(ErrorKind::LimitExceeded, "limits.contexts_per_caller: " + caller + " has created " +
                                                        std::to_string(mine) + " contexts, the most one caller may");
}

std::map<std::string, std::string> Manager::context_callers() const {
    std::map<std::string, std::string> out;
    for (const auto& entry : contexts_)
        if (!entry.second.caller.empty()) out[entry.first] = entry.second.caller;
    return out;
}

void Manager::add(const std::string& name, const ContextSpec& spec, bool from_config, Done done,
                  const std::string& caller, bool counted, const Ownership& owner) {
    check_context_name(name);
    if (contexts_.count(name)) throw DamondError(ErrorKind::Busy, "a context named '" + name + "' already exists");
    if (counted) check_context_limits(caller);
    ManagedContext ctx;
    ctx.spec = spec;
    ctx.caller = caller;
    ctx.counted = counted;
    ctx.owner = owner;
    ContextSpec effective = spec;  // a hold on every context holds new ones too
    effective.pause = spec.pause || holds_.covers(name);
    ctx.monitor = factory_(name, effective);
    if (checkpoint_source_) {
        if (const std::string cp = checkpoint_source_(name); !cp.empty()) {
            const std::string why_not = ctx.monitor->warm_start_from(cp);
            log_info("context '" + name + "': " +
                     (why_not.empty() ? std::string("warm start from its checkpoint") : "cold start: " + why_not));
        }
    }
    ctx.monitor->set_event_handler([this, name] { post_([this, name] { monitor_event(name); }); });
    ctx.from_config = from_config;
    ctx.config_spec = spec;
    ctx.state_since_us = now_us_();
    contexts_.emplace(name, std::move(ctx));
    // Not announced until it has started: a failed start leaves nothing behind.
    const bool restored = restoring_;
    submit(
        name, [this, name, restored] { return start_operation(name, restored); },
        [this, name, done](std::exception_ptr error) {
            if (contexts_.count(name) && contexts_.at(name).starting) erase(name);
            done(error);
        });
}

Manager::Operation Manager::start_operation(const std::string& name, bool restored) {
    return {[](Monitor& m) { m.start(); },
            [this, name, restored] {
                ManagedContext& c = contexts_.at(name);
                c.starting = false;
                c.counted_state = c.monitor->state();
                c.state_since_us = now_us_();
                log_info(
                    "context '" + name + "' " + (restored ? "restored, " : "created, ") + to_string(c.monitor->state()),
                    context_log(restored ? message_id::kContextRestored : message_id::kContextCreated, name));
                listener_.context_added(name);
                changed(true);
                arm_owner_checks();
            },
            [this, name](const DamondError&) { erase(name); }};
}

LogFields Manager::context_log(const char* id, const std::string& name) const {
    auto it = contexts_.find(name);
    return LogFields(id, name, "", it == contexts_.end() ? -1 : it->second.monitor->kdamond());
}

void Manager::erase(const std::string& name) {
    auto it = contexts_.find(name);
    if (it == contexts_.end()) return;
    std::deque<Step> orphans = std::move(it->second.queue);
    contexts_.erase(it);
    history_.forget(name);
    // Whatever was queued behind learns that the context is gone.
    for (Step& s : orphans)
        s.done(std::make_exception_ptr(DamondError(ErrorKind::NoSuchContext, "context '" + name + "' was removed")));
}

void Manager::monitor_event(const std::string& name) {
    auto it = contexts_.find(name);
    if (it == contexts_.end() || it->second.starting) return;
    ManagedContext& ctx = it->second;
    const std::string error = ctx.monitor->error();
    const MonitorState now = ctx.monitor->state();
    // The end of a failed operation and the monitor's own news may both report one change.
    if (ctx.event_reported && ctx.event_state == now && (error.empty() || error == ctx.last_error)) return;
    ctx.event_reported = true;
    ctx.event_state = now;
    std::vector<ContextField> changed{ContextField::State};
    if (!error.empty() && error != ctx.last_error) {
        ctx.last_error = error;
        changed.push_back(ContextField::LastError);
    }
    log_info("context '" + name + "' " + to_string(ctx.monitor->state()) + (error.empty() ? "" : ": " + error),
             context_log(message_id::kContextState, name));
    notify(name, changed);
}

void Manager::create_context(const std::string& name, const std::string& spec_json, Done done, const Requester& who) {
    or_fail(done, [&] {
        check_context_name(name);
        // Counted and measured before the JSON is even parsed.
        check_context_limits(who.limits_key);
        const SpecLimits unlimited{UINT64_MAX, UINT64_MAX};
        const ContextSpec spec =
            parse_within_limits(spec_json, restoring_ ? unlimited : limits_.spec,
                                [&](const std::string& text) { return spec_from_json_text(text); });
        // A restart's contexts were admitted before; their owners come back
        // with restore_ownership.
        const Ownership owner =
            restoring_ ? Ownership{who.uid, who.groups, false} : admit_targets(who, spec, read_creds_);
        add(name, spec, false, done, who.limits_key, true, owner);
    });
}

void Manager::create_context(const std::string& name, const ContextSpec& spec, Done done, const Ownership& owner) {
    or_fail(done, [&] { add(name, spec, false, done, "", false, owner); });
}

void Manager::remove_context(const std::string& name, Done done) {
    submit(
        name, [this, name] { return remove_operation(name); }, std::move(done));
}

Manager::Operation Manager::remove_operation(const std::string& name) {
    auto gone = [this, name] {
        const LogFields fields = context_log(message_id::kContextRemoved, name);
        erase(name);
        const bool had_holds = !holds_.remove_on(name).empty();
        log_info("context '" + name + "' removed", fields);
        listener_.context_removed(name);
        if (had_holds) listener_.holds_changed();
        changed(true);
    };
    // A monitor that cannot stop (its kdamond hangs) is removed all the same.
    return {[](Monitor& m) { m.stop(); }, gone, [gone](const DamondError&) { gone(); }};
}

void Manager::finish_pause(const std::string& name, bool pause, MonitorState before) {
    ManagedContext& ctx = get(name);
    std::vector<ContextField> changed;
    if (ctx.monitor->state() != before) changed.push_back(ContextField::State);
    if (ctx.spec.pause != pause) {
        ctx.spec.pause = pause;
        changed.push_back(ContextField::Spec);
    }
    if (!changed.empty())
        log_info("context '" + name + "' " + to_string(ctx.monitor->state()) + last_operation_text(name),
                 context_log(message_id::kContextState, name));
    notify(name, changed);
}

void Manager::set_pause(const std::string& name, bool pause, Done done, bool read_first) {
    submit(
        name, [this, name, pause, read_first] { return pause_operation(name, pause, read_first); }, std::move(done));
}

std::optional<Manager::Operation> Manager::pause_operation(const std::string& name, bool pause, bool read_first) {
    ManagedContext& ctx = get(name);
    if (!pause && !ctx.access_lost.empty()) throw DamondError(ErrorKind::AccessDenied, ctx.access_lost);
    const MonitorState before = ctx.monitor->state();
    // A held context stays paused; the wish to run is kept for later.
    const bool paused = pause || holds_.covers(name);
    return Operation{[paused, read_first](Monitor& m) {
                         if (!paused)
                             m.resume();
                         else if (read_first)
                             m.pause();
                         else
                             m.pause_unread();
                     },
                     [this, name, pause, before] { finish_pause(name, pause, before); }};
}

void Manager::pause_context(const std::string& name, Done done) { set_pause(name, true, std::move(done)); }
void Manager::pause_context_unread(const std::string& name, Done done) {
    set_pause(name, true, std::move(done), false);
}
void Manager::resume_context(const std::string& name, Done done) { set_pause(name, false, std::move(done)); }

void Manager::set_quick_resume(const std::string& name, bool quick, Done done) {
    // Nothing to say when it ran: the settle it leads to logs the new sleep.
    submit(
        name, [quick] { return Operation{[quick](Monitor& m) { m.set_quick_resume(quick); }}; }, std::move(done));
}

void Manager::commit_failed(const std::string& name, const DamondError& e) {
    ManagedContext& ctx = get(name);
    ctx.last_error = std::string("commit rejected: ") + e.what();
    ctx.counters.commits_failed++;
    notify(name, {ContextField::LastError});
}

void Manager::finish_commit(const std::string& name, const ContextSpec& spec, MonitorState before) {
    ManagedContext& ctx = get(name);
    std::vector<ContextField> changed;
    if (!(ctx.spec == spec)) changed.push_back(ContextField::Spec);
    if (ctx.monitor->state() != before) changed.push_back(ContextField::State);
    if (!ctx.last_error.empty()) changed.push_back(ContextField::LastError);
    ctx.spec = spec;
    ctx.last_error.clear();
    ctx.counters.commits_ok++;
    log_info("context '" + name + "' committed" + last_operation_text(name),
             context_log(message_id::kContextCommitted, name));
    notify(name, changed);
    arm_owner_checks();  // it may watch a process now
}

void Manager::commit_spec(const std::string& name, const ContextSpec& spec, Done done) {
    submit(
        name, [this, name, spec] { return commit_operation(name, spec); }, std::move(done));
}

Manager::Operation Manager::commit_operation(const std::string& name, const ContextSpec& spec) {
    const MonitorState before = get(name).monitor->state();
    ContextSpec to_monitor = spec;
    to_monitor.pause = spec.pause || holds_.covers(name);
    return {[to_monitor](Monitor& m) { m.commit(to_monitor); },
            [this, name, spec, before] { finish_commit(name, spec, before); },
            [this, name](const DamondError& e) { commit_failed(name, e); }};
}

void Manager::commit_context(const std::string& name, const std::string& patch_json, Done done, const Requester& who) {
    submit(
        name, [this, name, patch_json, who] { return commit_patch_operation(name, patch_json, who); }, std::move(done));
}

Manager::Operation Manager::commit_patch_operation(const std::string& name, const std::string& patch_json,
                                                   const Requester& who) {
    ManagedContext& ctx = get(name);
    // Against the spec as the operations ahead of it left it.
    ContextSpec next;
    try {
        next = parse_within_limits(patch_json, limits_.spec,
                                   [&](const std::string& text) { return spec_apply_patch(ctx.spec, text); });
    } catch (const DamondError& e) {
        ctx.last_error = std::string("commit rejected: ") + e.what();
        ctx.counters.commits_invalid++;
        notify(name, {ContextField::LastError});
        throw;
    }
    if (!ctx.access_lost.empty()) throw DamondError(ErrorKind::AccessDenied, ctx.access_lost);
    Operation op = commit_operation(name, next);
    if (next.ops != ctx.spec.ops || watched_pids(next) != watched_pids(ctx.spec)) {
        // Whoever commits must be admitted to the new targets; and the
        // owner, who reads the regions, as well.
        const Ownership by = admit_targets(who, next, read_creds_);
        if (who.uid == ctx.owner.uid) {
            op.succeeded = [this, name, by, then = std::move(op.succeeded)] {
                then();
                contexts_.at(name).owner = by;
            };
        } else if (std::string why = lost_access(ctx.owner, next, read_creds_);
                   !why.empty() || (next.ops == Ops::Paddr && ctx.owner.uid != 0 && !ctx.owner.granted)) {
            throw DamondError(ErrorKind::AccessDenied, "the context's owner, uid " + std::to_string(ctx.owner.uid) +
                                                           ", may not watch the new targets" +
                                                           (why.empty() ? "" : ": " + why));
        }
    }
    return op;
}

void Manager::snapshot_json(const std::string& name, std::function<void(std::exception_ptr, std::string)> done) {
    auto it = contexts_.find(name);
    // Busy with something else (a hung write, say): what it last saw.
    if (it != contexts_.end() && (it->second.op_in_progress || !it->second.queue.empty())) {
        done(nullptr, snapshot_to_json(it->second.last_snapshot).dump());
        return;
    }
    auto snap = std::make_shared<MonitorSnapshot>();
    submit(
        name, [this, name, snap] { return snapshot_operation(name, snap); },
        [snap, done](std::exception_ptr e) { done(e, e ? "" : snapshot_to_json(*snap).dump()); });
}

void Manager::snapshot(const std::string& name, std::function<void(std::exception_ptr, MonitorSnapshot)> done) {
    auto snap = std::make_shared<MonitorSnapshot>();
    submit(
        name, [this, name, snap] { return snapshot_operation(name, snap); },
        [snap, done](std::exception_ptr e) { done(e, e ? MonitorSnapshot{} : *snap); });
}

std::vector<uint32_t> Manager::target_pids(const std::string& name) const {
    std::vector<uint32_t> pids;
    for (const Target& t : get(name).spec.targets)
        pids.push_back(t.pid_target && *t.pid_target > 0 ? static_cast<uint32_t>(*t.pid_target) : 0);
    return pids;
}

Manager::Operation Manager::snapshot_operation(const std::string& name, std::shared_ptr<MonitorSnapshot> into) {
    return {[into](Monitor& m) { *into = m.snapshot(); }, [this, name, into] { get(name).last_snapshot = *into; }};
}

// --- config and shutdown -----------------------------------------------------

void Manager::apply_config(const Config& config, std::function<void(std::vector<std::string>)> done) {
    limits_ = config.limits;  // for calls from here on; what exists stays
    auto errors = std::make_shared<std::vector<std::string>>();
    std::vector<std::function<void(Done)>> parts;
    std::vector<std::string> dropped;
    for (const auto& [name, ctx] : contexts_)
        if (ctx.from_config && !ctx.starting && !config.contexts.count(name)) dropped.push_back(name);
    for (const std::string& name : dropped) parts.push_back([this, name](Done d) { remove_context(name, d); });
    for (const auto& entry : config.contexts) {
        // Named copies: lambdas below capture them (clang 14, used by the
        // fuzz build, cannot capture structured bindings).
        const std::string& name = entry.first;
        const ContextSpec& spec = entry.second;
        auto it = contexts_.find(name);
        if (it == contexts_.end()) {
            parts.push_back([this, name, spec](Done d) { or_fail(d, [&] { add(name, spec, true, d); }); });
        } else if (!it->second.from_config) {
            errors->push_back("contexts." + name + ": a context of that name was created over the bus; left alone");
        } else if (!(it->second.config_spec == spec)) {
            ContextSpec next = spec;
            if (spec.pause == it->second.config_spec.pause) next.pause = it->second.spec.pause;
            it->second.config_spec = spec;
            parts.push_back([this, name, next](Done d) { commit_spec(name, next, d); });
        }
    }
    // Every part reports, with its own error: the reload's errors name them.
    Done all = join_parts(parts.size(), [errors, done](std::exception_ptr) { done(*errors); });
    for (auto& part : parts)
        part([errors, all](std::exception_ptr error) {
            if (error) errors->push_back(error_text(error));
            all(nullptr);
        });
}

void Manager::stop_all(bool for_restart, std::function<void()> done) {
    std::vector<std::string> names;
    for (const auto& [name, ctx] : contexts_) names.push_back(name);
    Done part = join_parts(names.size(), [done](std::exception_ptr) { done(); });
    for (const std::string& name : names) {
        Done each = [name, part](std::exception_ptr error) {
            if (error) log_error("context '" + name + "': stopping: " + error_text(error));
            part(nullptr);
        };
        submit(
            name, [for_restart] { return stop_operation(for_restart); }, each);
    }
}

Manager::Operation Manager::stop_operation(bool for_restart) {
    return {[for_restart](Monitor& m) { for_restart ? m.stop_for_restart() : m.stop(); }};
}

size_t Manager::operations_under_way() const {
    size_t n = 0;
    for (const auto& [name, ctx] : contexts_) n += ctx.queue.size() + (ctx.op_in_progress ? 1 : 0);
    return n;
}

}  // namespace damond
