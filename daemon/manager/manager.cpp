#include "manager/manager.hpp"

#include "errors.hpp"
#include "log.hpp"
#include <condition_variable>
#include <mutex>

#include "monitor/given_up_monitor.hpp"
#include "monitor/snapshot_json.hpp"
#include "spec/spec_json.hpp"
#include "spec/spec_limits.hpp"

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

// Runs fn; an exception it throws goes to `done` instead.
template <class Fn>
void or_fail(const Manager::Done& done, Fn fn) {
    try {
        fn();
    } catch (...) {
        done(std::current_exception());
    }
}

}  // namespace

Manager::Manager(Backend backend, MonitorFactory factory, Poster post)
    : backend_(backend),
      factory_(std::move(factory)),
      post_(std::move(post)),
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
    const uint64_t now = now_us_ ? now_us_() : 0;
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
    if (listener_) listener_->context_changed(name, fields);
    // An app's contexts are not kept (the app is, with its state), so their
    // pause and resume on every switch write nothing.
    it = contexts_.find(name);  // the listener may have changed the map
    const bool spec_kept = it != contexts_.end() && (it->second.counted || it->second.from_config);
    bool kept = false;
    for (ContextField f : fields) kept = kept || (f == ContextField::Spec && spec_kept) || f == ContextField::Holds;
    changed(kept);
}

// --- the one way a monitor is driven ---------------------------------------

void Manager::enqueue(const std::string& name, std::function<void()> run, Done fail) {
    auto it = contexts_.find(name);
    if (it == contexts_.end()) throw DamondError(ErrorKind::NoSuchContext, "no context named '" + name + "'");
    ManagedContext& ctx = it->second;
    if (inline_ && (ctx.op_in_progress || !ctx.queue.empty()))
        throw DamondError(ErrorKind::Busy, "an operation on context '" + name + "' is still in progress");
    ctx.queue.push_back(Step{std::move(run), std::move(fail)});
    if (!ctx.op_in_progress) dispatch(name);
}

void Manager::dispatch(const std::string& name) {
    for (;;) {
        auto it = contexts_.find(name);
        if (it == contexts_.end() || it->second.op_in_progress || it->second.queue.empty()) return;
        Step step = std::move(it->second.queue.front());
        it->second.queue.pop_front();
        try {
            step.run();
        } catch (...) {
            step.fail(std::current_exception());
        }
    }
}

void Manager::launch(const std::string& name, std::function<void(Monitor&)> op, std::function<void()> finish,
                     std::function<void(const DamondError&)> on_error, Done done) {
    ManagedContext& ctx = contexts_.at(name);
    ++ctx.generation;
    const MonitorState before = ctx.monitor->state();
    auto conclude = [this, name, finish = std::move(finish), on_error = std::move(on_error), done = std::move(done),
                     before](std::exception_ptr error) {
        if (contexts_.count(name)) {
            if (!error) {
                finish();
            } else {
                try {
                    std::rethrow_exception(error);
                } catch (const DamondError& e) {
                    on_error(e);
                } catch (const std::exception& e) {
                    error = std::make_exception_ptr(DamondError(ErrorKind::Failed, e.what()));
                    on_error(DamondError(ErrorKind::Failed, e.what()));
                }
                // A failure (a missed deadline) may have changed the state.
                auto it = contexts_.find(name);
                if (it != contexts_.end() && it->second.monitor->state() != before) monitor_event(name);
            }
        }
        done(error);
        if (contexts_.count(name)) operation_ended(name);
    };
    if (!ctx.monitor->blocking()) {
        std::exception_ptr error;
        try {
            op(*ctx.monitor);
        } catch (...) {
            error = std::current_exception();
        }
        conclude(error);
        return;
    }
    // A blocking monitor's operation runs on the context's thread, whose
    // calls into the kernel the runner times: the watchdog while this
    // thread goes on, or this thread itself in a synchronous call.
    if (!ctx.thread) ctx.thread = std::make_unique<ContextThread>();
    Monitor* monitor = ctx.monitor.get();
    CallWatch* watch = monitor->call_watch();
    if (inline_) {
        struct Result {
            std::mutex mu;
            std::condition_variable cv;
            bool done = false;
            std::exception_ptr error;
        };
        auto result = std::make_shared<Result>();  // the thread's, should it be given up
        ctx.thread->run([monitor, op = std::move(op), result] {
            std::exception_ptr error;
            try {
                op(*monitor);
            } catch (...) {
                error = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(result->mu);
            result->error = error;
            result->done = true;
            result->cv.notify_all();
        });
        std::unique_lock<std::mutex> lock(result->mu);
        for (;;) {
            if (result->cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return result->done; })) break;
            const std::string late = watch ? watch->overdue(CallWatch::Clock::now()) : "";
            if (late.empty()) continue;
            lock.unlock();
            give_up(name, late);
            conclude(std::make_exception_ptr(DamondError(ErrorKind::Failed, late)));
            return;
        }
        const std::exception_ptr error = result->error;
        lock.unlock();
        conclude(error);
        return;
    }
    ctx.op_in_progress = true;
    ctx.given_up = std::make_shared<bool>(false);
    ctx.ticket = watch ? watchdog_.watch(*watch) : 0;
    ctx.conclude = std::move(conclude);
    ctx.thread->run([this, name, monitor, op = std::move(op), given_up = ctx.given_up, ticket = ctx.ticket] {
        std::exception_ptr error;
        try {
            op(*monitor);
        } catch (...) {
            error = std::current_exception();
        }
        post_([this, name, error, given_up, ticket] {
            if (*given_up) return;  // answered for when it was given up
            if (ticket) watchdog_.forget(ticket);
            auto it = contexts_.find(name);
            if (it == contexts_.end()) return;
            it->second.op_in_progress = false;
            auto conclude = std::move(it->second.conclude);
            conclude(error);
            dispatch(name);
        });
    });
}

void Manager::overdue(uint64_t ticket, const std::string& error) {
    for (auto& [name, ctx] : contexts_) {
        if (!ctx.op_in_progress || ctx.ticket != ticket) continue;
        const std::string context = name;  // the entry may go in conclude
        *ctx.given_up = true;
        ctx.op_in_progress = false;
        give_up(context, error);
        auto conclude = std::move(ctx.conclude);
        conclude(std::make_exception_ptr(DamondError(ErrorKind::Failed, error)));
        dispatch(context);
        return;
    }
}

void Manager::give_up(const std::string& name, const std::string& error) {
    ManagedContext& ctx = contexts_.at(name);
    if (CallWatch* watch = ctx.monitor->call_watch()) watch->give_up();
    ctx.monitor->set_event_handler(nullptr);
    std::shared_ptr<Monitor> stuck(std::move(ctx.monitor));
    ctx.monitor = std::make_unique<GivenUpMonitor>(*stuck, ctx.last_snapshot, error);
    log_error("context '" + name + "': a call into the kernel did not return in time, so its thread is left behind: " +
                  error,
              LogFields(message_id::kContextState, name, "", ctx.monitor->kdamond()));
    ContextThread::abandon(std::move(ctx.thread), [stuck]() mutable { stuck.reset(); });
}

void Manager::operation_ended(const std::string& name) {
    ManagedContext& ctx = contexts_.at(name);
    if (ctx.queue.empty() && !ctx.op_in_progress) schedule_settle(name);
}

void Manager::schedule_settle(const std::string& name) {
    ManagedContext& ctx = contexts_.at(name);
    if (!schedule_ || ctx.starting) return;
    const uint64_t after = ctx.monitor->settle_after_ms();
    if (!after) return;
    const uint64_t generation = ctx.generation;
    schedule_(after, [this, name, generation] {
        auto it = contexts_.find(name);
        // Anything that happened since makes this one stale; it scheduled its own.
        if (it == contexts_.end() || it->second.generation != generation || it->second.op_in_progress ||
            !it->second.queue.empty())
            return;
        Done logged = [name](std::exception_ptr error) {
            if (error) log_error("context '" + name + "': " + error_text(error));
        };
        or_fail(logged, [&] {
            enqueue(
                name,
                [this, name, logged] {
                    launch(
                        name, [](Monitor& m) { m.settle(); }, [] {}, [](const DamondError&) {}, logged);
                },
                logged);
        });
    });
}

void Manager::wait_for(const std::function<void(Done)>& start) {
    std::exception_ptr error;
    bool finished = false;
    {
        Inline here(*this);
        start([&error, &finished](std::exception_ptr e) {
            error = e;
            finished = true;
        });
    }
    if (!finished) throw DamondError(ErrorKind::Busy, "the operation could not finish here");
    if (error) std::rethrow_exception(error);
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
    if (now_us_) ctx.state_since_us = now_us_();
    contexts_.emplace(name, std::move(ctx));
    // Not announced until it has started: a failed start leaves nothing behind.
    const bool restored = restoring_;
    auto started = [this, name, restored] {
        ManagedContext& c = contexts_.at(name);
        c.starting = false;
        c.counted_state = c.monitor->state();
        if (now_us_) c.state_since_us = now_us_();
        log_info("context '" + name + "' " + (restored ? "restored, " : "created, ") + to_string(c.monitor->state()),
                 context_log(restored ? message_id::kContextRestored : message_id::kContextCreated, name));
        if (listener_) listener_->context_added(name);
        changed(true);
        arm_owner_checks();
    };
    auto start_failed = [this, name](const DamondError&) { erase(name); };
    Done fail = [this, name, done](std::exception_ptr error) {
        if (contexts_.count(name) && contexts_.at(name).starting) erase(name);
        done(error);
    };
    enqueue(
        name, [this, name, started, start_failed, done] {
            launch(name, [](Monitor& m) { m.start(); }, started, start_failed, done);
        },
        fail);
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
    for (Step& s : orphans) s.fail(std::make_exception_ptr(DamondError(ErrorKind::NoSuchContext, "context '" + name + "' was removed")));
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

void Manager::create_context(const std::string& name, const std::string& spec_json, Done done,
                             const Requester& who) {
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
        const Ownership owner = restoring_ ? Ownership{who.uid, who.groups, false} : admit_targets(who, spec, read_creds_);
        add(name, spec, false, done, who.limits_key, true, owner);
    });
}

void Manager::create_context(const std::string& name, const ContextSpec& spec, Done done, const Ownership& owner) {
    or_fail(done, [&] { add(name, spec, false, done, "", false, owner); });
}

void Manager::remove_context(const std::string& name, Done done) {
    or_fail(done, [&] {
        get(name);
        enqueue(
            name,
            [this, name, done] {
                auto gone = [this, name] {
                    const LogFields fields = context_log(message_id::kContextRemoved, name);
                    erase(name);
                    const bool had_holds = !holds_.remove_on(name).empty();
                    log_info("context '" + name + "' removed", fields);
                    if (listener_) listener_->context_removed(name);
                    if (had_holds && listener_) listener_->holds_changed();
                    changed(true);
                };
                // A monitor that cannot stop (its kdamond hangs) is removed all the same.
                launch(name, [](Monitor& m) { m.stop(); }, gone, [gone](const DamondError&) { gone(); }, done);
            },
            done);
    });
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
        log_info("context '" + name + "' " + to_string(ctx.monitor->state()), context_log(message_id::kContextState, name));
    notify(name, changed);
}

void Manager::set_pause(const std::string& name, bool pause, Done done) {
    or_fail(done, [&] {
        get(name);
        enqueue(
            name,
            [this, name, pause, done] {
                const MonitorState before = get(name).monitor->state();
                if (!pause && !get(name).access_lost.empty())
                    throw DamondError(ErrorKind::AccessDenied, get(name).access_lost);
                // A held context stays paused; the wish to run is kept for later.
                const bool paused = pause || holds_.covers(name);
                launch(
                    name, [paused](Monitor& m) { paused ? m.pause() : m.resume(); },
                    [this, name, pause, before] { finish_pause(name, pause, before); }, [](const DamondError&) {}, done);
            },
            done);
    });
}

void Manager::pause_context(const std::string& name, Done done) { set_pause(name, true, std::move(done)); }
void Manager::resume_context(const std::string& name, Done done) { set_pause(name, false, std::move(done)); }

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
    log_info("context '" + name + "' committed", context_log(message_id::kContextCommitted, name));
    notify(name, changed);
    arm_owner_checks();  // it may watch a process now
}

void Manager::commit_spec(const std::string& name, const ContextSpec& spec, Done done) {
    const MonitorState before = get(name).monitor->state();
    ContextSpec to_monitor = spec;
    to_monitor.pause = spec.pause || holds_.covers(name);
    launch(
        name, [to_monitor](Monitor& m) { m.commit(to_monitor); },
        [this, name, spec, before] { finish_commit(name, spec, before); },
        [this, name](const DamondError& e) { commit_failed(name, e); }, std::move(done));
}

void Manager::commit_context(const std::string& name, const std::string& patch_json, Done done,
                             const Requester& who) {
    or_fail(done, [&] {
        get(name);
        enqueue(
            name,
            [this, name, patch_json, done, who] {
                ManagedContext& ctx = get(name);
                // Against the spec as the operations ahead of it left it.
                ContextSpec next;
                try {
                    next = parse_within_limits(patch_json, limits_.spec, [&](const std::string& text) {
                        return spec_apply_patch(ctx.spec, text);
                    });
                } catch (const DamondError& e) {
                    ctx.last_error = std::string("commit rejected: ") + e.what();
                    ctx.counters.commits_invalid++;
                    notify(name, {ContextField::LastError});
                    throw;
                }
                if (!ctx.access_lost.empty()) throw DamondError(ErrorKind::AccessDenied, ctx.access_lost);
                Done committed = done;
                if (next.ops != ctx.spec.ops || watched_pids(next) != watched_pids(ctx.spec)) {
                    // Whoever commits must be admitted to the new targets; and
                    // the owner, who reads the regions, as well.
                    const Ownership by = admit_targets(who, next, read_creds_);
                    if (who.uid == ctx.owner.uid) {
                        committed = [this, name, by, done](std::exception_ptr e) {
                            if (!e && contexts_.count(name)) contexts_.at(name).owner = by;
                            done(e);
                        };
                    } else if (std::string why = lost_access(ctx.owner, next, read_creds_); !why.empty() ||
                               (next.ops == Ops::Paddr && ctx.owner.uid != 0 && !ctx.owner.granted)) {
                        throw DamondError(ErrorKind::AccessDenied,
                                          "the context's owner, uid " + std::to_string(ctx.owner.uid) +
                                              ", may not watch the new targets" + (why.empty() ? "" : ": " + why));
                    }
                }
                commit_spec(name, next, committed);
            },
            done);
    });
}

void Manager::snapshot_json(const std::string& name, std::function<void(std::exception_ptr, std::string)> done) {
    Done fail = [done](std::exception_ptr e) { done(e, ""); };
    or_fail(fail, [&] {
        ManagedContext& ctx = get(name);
        // Busy with something else (a hung write, say): what it last saw.
        if (ctx.op_in_progress || !ctx.queue.empty()) {
            done(nullptr, snapshot_to_json(ctx.last_snapshot).dump());
            return;
        }
        auto snap = std::make_shared<MonitorSnapshot>();
        enqueue(
            name,
            [this, name, snap, done] {
                launch(
                    name, [snap](Monitor& m) { *snap = m.snapshot(); },
                    [this, name, snap] { get(name).last_snapshot = *snap; }, [](const DamondError&) {},
                    [snap, done](std::exception_ptr e) { done(e, e ? "" : snapshot_to_json(*snap).dump()); });
            },
            fail);
    });
}

// --- privacy -----------------------------------------------------------------

void Manager::check_read(const std::string& name, const Requester& who) {
    ManagedContext& ctx = get(name);
    if (!has_private_regions(ctx.spec.ops) || who.uid == 0) return;
    if (who.uid == ctx.owner.uid) {
        if (ctx.access_lost.empty())
            if (std::string why = lost_access(ctx.owner, ctx.spec, read_creds_); !why.empty()) stop_for_privacy(name, why);
        if (ctx.access_lost.empty()) return;
        throw DamondError(ErrorKind::AccessDenied, "context '" + name + "': " + ctx.access_lost);
    }
    std::string why = "nobody to ask";
    if (who.ask && who.ask(Grant::ReadOthers, why)) return;
    throw DamondError(ErrorKind::AccessDenied,
                      "context '" + name + "' is uid " + std::to_string(ctx.owner.uid) +
                          "'s: its regions (addresses and accesses) are for root, its owner, and callers granted "
                          "read-others (uid " + std::to_string(who.uid) + ": " + why + ")");
}

void Manager::restore_ownership(const std::string& name, const Ownership& owner) {
    get(name).owner = owner;
    arm_owner_checks();
}

void Manager::stop_for_privacy(const std::string& name, const std::string& why) {
    ManagedContext& ctx = get(name);
    ctx.access_lost = why;
    ctx.last_error = why;
    log_notice("context '" + name + "': " + why, context_log(message_id::kContextState, name));
    notify(name, {ContextField::LastError});
    enqueue(
        name,
        [this, name] {
            const MonitorState before = get(name).monitor->state();
            launch(
                name, [](Monitor& m) { m.stop(); },
                [this, name, before] {
                    if (get(name).monitor->state() != before) notify(name, {ContextField::State});
                },
                [](const DamondError&) {}, [](std::exception_ptr) {});
        },
        [](std::exception_ptr) {});
}

void Manager::check_owners() {
    std::vector<std::pair<std::string, std::string>> lost;
    for (const auto& [name, ctx] : contexts_) {
        if (ctx.starting || !ctx.access_lost.empty()) continue;
        if (std::string why = lost_access(ctx.owner, ctx.spec, read_creds_); !why.empty()) lost.emplace_back(name, why);
    }
    for (const auto& [name, why] : lost) stop_for_privacy(name, why);
}

void Manager::arm_owner_checks() {
    if (owner_checks_armed_ || !schedule_) return;
    uint64_t period_ms = 1000;
    bool any = false;
    for (const auto& [name, ctx] : contexts_) {
        if (ctx.owner.uid == 0 || ctx.owner.granted || !ctx.access_lost.empty() || watched_pids(ctx.spec).empty())
            continue;
        any = true;
        period_ms = std::min(period_ms, std::max<uint64_t>(100, ctx.spec.intervals.update_us / 1000));
    }
    if (!any) return;
    owner_checks_armed_ = true;
    schedule_(period_ms, [this] {
        owner_checks_armed_ = false;
        check_owners();
        arm_owner_checks();
    });
}

// --- holds -------------------------------------------------------------------

void Manager::reconcile(const std::string& name, Done done) {
    enqueue(
        name,
        [this, name, done] {
            ManagedContext& ctx = get(name);
            const MonitorState before = ctx.monitor->state();
            const bool pause = ctx.spec.pause || holds_.covers(name);
            if (!(pause && before == MonitorState::Running) && !(!pause && before == MonitorState::Paused)) {
                done(nullptr);
                return;
            }
            launch(
                name, [pause](Monitor& m) { pause ? m.pause() : m.resume(); },
                [this, name, before] {
                    if (get(name).monitor->state() == before) return;
                    log_info("context '" + name + "' " + to_string(get(name).monitor->state()),
                             context_log(message_id::kContextState, name));
                    notify(name, {ContextField::State});
                },
                [](const DamondError&) {}, done);
        },
        done);
}

void Manager::holds_changed_for(const PauseHold& hold, Done done) {
    std::vector<std::string> names;
    if (hold.context.empty()) {
        for (const auto& [name, ctx] : contexts_)
            if (!ctx.starting) names.push_back(name);
    } else if (has_context(hold.context)) {
        names.push_back(hold.context);
    }
    Done part = join_parts(names.size(), std::move(done));
    for (const std::string& name : names) {
        notify(name, {ContextField::Holds});
        Done logged = [name, part](std::exception_ptr error) {
            if (error) log_error("context '" + name + "': " + error_text(error));
            part(nullptr);  // a context that could not follow is logged, not the hold's failure
        };
        or_fail(logged, [&] { reconcile(name, logged); });
    }
    if (listener_) listener_->holds_changed();
    changed(true);
}

void Manager::hold_pause(const std::string& context, const std::string& who, const std::string& why,
                         const std::string& owner, std::function<void(std::exception_ptr, uint32_t)> done) {
    Done fail = [done](std::exception_ptr e) { done(e, 0); };
    or_fail(fail, [&] {
        check_hold_text(who, why);
        check_hold_limits(who, why, owner);
        if (!context.empty()) {
            get(context);  // NoSuchContext
            // Nothing half-applied: a context that cannot pause gets no hold.
            const uint32_t cookie = holds_.add(context, who, why, owner);
            reconcile(context, [this, cookie, context, who, why, done](std::exception_ptr error) {
                if (error) {
                    holds_.remove(cookie);
                    done(error, 0);
                    return;
                }
                log_info("pause hold " + std::to_string(cookie) + " on '" + context + "' by " + who + ": " + why,
                         {message_id::kHoldTaken, context});
                const std::optional<PauseHold> hold = holds_.find(cookie);
                if (!hold) {  // released while its pause ran
                    done(nullptr, cookie);
                    return;
                }
                holds_changed_for(*hold, [done, cookie](std::exception_ptr e) { done(e, cookie); });
            });
            return;
        }
        const uint32_t cookie = holds_.add("", who, why, owner);
        log_info("pause hold " + std::to_string(cookie) + " on every context by " + who + ": " + why,
                 {message_id::kHoldTaken});
        holds_changed_for(*holds_.find(cookie), [done, cookie](std::exception_ptr e) { done(e, cookie); });
    });
}

void Manager::check_hold_limits(const std::string& who, const std::string& why, const std::string& owner) const {
    if (who.size() > limits_.text_bytes || why.size() > limits_.text_bytes)
        throw DamondError(ErrorKind::LimitExceeded, std::string(who.size() > why.size() ? "who" : "why") + ": " +
                                                        std::to_string(std::max(who.size(), why.size())) +
                                                        " bytes, over limits.text_bytes (" +
                                                        std::to_string(limits_.text_bytes) + ")");
    const std::vector<PauseHold> all = holds_.all();
    if (all.size() >= limits_.holds)
        throw DamondError(ErrorKind::LimitExceeded, "limits.holds: " + std::to_string(all.size()) +
                                                        " pause holds are taken, the most damond keeps");
    if (owner.empty()) return;
    size_t mine = 0;
    for (const PauseHold& h : all) mine += h.owner == owner;
    if (mine >= limits_.holds_per_caller)
        throw DamondError(ErrorKind::LimitExceeded, "limits.holds_per_caller: " + owner + " holds " +
                                                        std::to_string(mine) + " pauses, the most one caller may");
}

void Manager::release_pause(uint32_t cookie, const std::string* only_context, Done done) {
    or_fail(done, [&] {
        const std::optional<PauseHold> hold = holds_.find(cookie);
        if (!hold || (only_context && hold->context != *only_context))
            throw DamondError(ErrorKind::NoSuchHold, "no pause hold " + std::to_string(cookie) +
                                                         (only_context ? " on context '" + *only_context + "'" : ""));
        holds_.remove(cookie);
        log_info("pause hold " + std::to_string(cookie) + " by " + hold->who + " released",
                 {message_id::kHoldReleased, hold->context});
        holds_changed_for(*hold, done);
    });
}

size_t Manager::release_holds_of(const std::string& owner) {
    const std::vector<PauseHold> gone = holds_.remove_owned_by(owner);
    for (const PauseHold& h : gone) {
        log_info("pause hold " + std::to_string(h.cookie) + " by " + h.who + " released: " + owner + " left the bus",
                 {message_id::kHoldReleased, h.context});
        holds_changed_for(h, [](std::exception_ptr) {});
    }
    return gone.size();
}

void Manager::restore_holds(const std::vector<PauseHold>& holds, uint32_t next_cookie) {
    uint32_t next = next_cookie;
    for (const PauseHold& h : holds) {
        holds_.restore(h);
        if (h.cookie >= next) next = h.cookie + 1;
    }
    holds_.set_next_cookie(next);
    Inline here(*this);
    for (const PauseHold& h : holds) holds_changed_for(h, [](std::exception_ptr) {});
}

// --- config and shutdown -----------------------------------------------------

void Manager::apply_config(const Config& config, std::function<void(std::vector<std::string>)> done) {
    limits_ = config.limits;  // for calls from here on; what exists stays
    auto errors = std::make_shared<std::vector<std::string>>();
    std::vector<std::function<void(Done)>> parts;
    std::vector<std::string> dropped;
    for (const auto& [name, ctx] : contexts_)
        if (ctx.from_config && !ctx.starting && !config.contexts.count(name)) dropped.push_back(name);
    for (const std::string& name : dropped)
        parts.push_back([this, name](Done d) { remove_context(name, d); });
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
            parts.push_back([this, name, next](Done d) {
                or_fail(d, [&] { enqueue(name, [this, name, next, d] { commit_spec(name, next, d); }, d); });
            });
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
        or_fail(each, [&] {
            enqueue(
                name,
                [this, name, for_restart, each] {
                    launch(
                        name, [for_restart](Monitor& m) { for_restart ? m.stop_for_restart() : m.stop(); }, [] {},
                        [](const DamondError&) {}, each);
                },
                each);
        });
    }
}

size_t Manager::operations_under_way() const {
    size_t n = 0;
    for (const auto& [name, ctx] : contexts_) n += ctx.queue.size() + (ctx.op_in_progress ? 1 : 0);
    return n;
}

// --- synchronous forms -------------------------------------------------------

void Manager::create_context(const std::string& name, const std::string& spec_json, const Requester& who) {
    wait_for([&](Done d) { create_context(name, spec_json, d, who); });
}
void Manager::remove_context(const std::string& name) {
    wait_for([&](Done d) { remove_context(name, d); });
}
void Manager::pause_context(const std::string& name) {
    wait_for([&](Done d) { pause_context(name, d); });
}
void Manager::resume_context(const std::string& name) {
    wait_for([&](Done d) { resume_context(name, d); });
}
void Manager::commit_context(const std::string& name, const std::string& patch_json, const Requester& who) {
    wait_for([&](Done d) { commit_context(name, patch_json, d, who); });
}
std::string Manager::snapshot_json(const std::string& name) {
    std::string out;
    wait_for([&](Done d) {
        snapshot_json(name, [&out, d](std::exception_ptr e, std::string json) {
            out = std::move(json);
            d(e);
        });
    });
    return out;
}
MonitorSnapshot Manager::snapshot(const std::string& name) {
    snapshot_json(name);
    return get(name).last_snapshot;
}
uint32_t Manager::hold_pause(const std::string& context, const std::string& who, const std::string& why,
                             const std::string& owner) {
    uint32_t cookie = 0;
    wait_for([&](Done d) {
        hold_pause(context, who, why, owner, [&cookie, d](std::exception_ptr e, uint32_t c) {
            cookie = c;
            d(e);
        });
    });
    return cookie;
}
void Manager::release_pause(uint32_t cookie, const std::string* only_context) {
    wait_for([&](Done d) { release_pause(cookie, only_context, d); });
}
std::vector<std::string> Manager::apply_config(const Config& config) {
    std::vector<std::string> out;
    Inline here(*this);
    apply_config(config, [&out](std::vector<std::string> errors) { out = std::move(errors); });
    return out;
}
void Manager::stop_all(bool for_restart) {
    Inline here(*this);
    stop_all(for_restart, [] {});
}

// --- what is known now -------------------------------------------------------

std::vector<ContextInfo> Manager::list_contexts() const {
    std::vector<ContextInfo> out;
    for (const auto& [name, ctx] : contexts_)
        if (!ctx.starting) out.push_back(ContextInfo{name, ctx.monitor->state()});
    return out;
}

MonitorState Manager::state(const std::string& name) const { return get(name).monitor->state(); }

MonitorStats Manager::context_stats(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    // A blocking monitor's own copy may be changing on its context's thread.
    if (!ctx.op_in_progress || !ctx.monitor->blocking()) return ctx.monitor->stats();
    MonitorStats s;
    s.nr_samples = ctx.last_snapshot.nr_samples;
    s.nr_aggregations = ctx.last_snapshot.nr_aggregations;
    for (const auto& t : ctx.last_snapshot.targets) s.nr_regions += t.size();
    return s;
}

ContextFigures Manager::context_figures(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    if (!ctx.monitor) return {};
    if (!ctx.op_in_progress || !ctx.monitor->blocking()) return ctx.monitor->figures();
    return figures_of(ctx.last_snapshot);
}

uint64_t Manager::paused_us(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    uint64_t us = ctx.counters.paused_us;
    if (ctx.counted_state == MonitorState::Paused && now_us_) {
        const uint64_t now = now_us_();
        us += now - std::min(now, ctx.state_since_us);
    }
    return us;
}

bool Manager::announce_stats() {
    bool running = false;
    std::vector<std::string> moved;
    for (auto& [name, ctx] : contexts_) {
        if (ctx.starting || !ctx.monitor) continue;
        running = running || ctx.monitor->state() == MonitorState::Running;
        const uint64_t aggregations = context_figures(name).nr_aggregations;
        if (aggregations == ctx.announced_aggregations) continue;
        ctx.announced_aggregations = aggregations;
        moved.push_back(name);
    }
    for (const std::string& name : moved)
        if (listener_ && contexts_.count(name)) listener_->context_changed(name, {ContextField::Stats});
    return running;
}

void Manager::record_history(uint64_t unix_us) {
    for (const auto& [name, ctx] : contexts_) {
        if (ctx.starting || !ctx.monitor) continue;
        const ContextFigures f = context_figures(name);
        history_.record(name, unix_us, f.working_set_bytes, f.idle_p90_us, ctx.monitor->state() != MonitorState::Running);
    }
}

void Manager::refresh_figures() {
    for (auto& [name, ctx] : contexts_) {
        if (ctx.starting || !ctx.monitor || !ctx.monitor->blocking() || ctx.op_in_progress || !ctx.queue.empty())
            continue;
        if (ctx.monitor->state() != MonitorState::Running) continue;
        snapshot_json(name, [](std::exception_ptr, std::string) {});
    }
}

std::string Manager::spec_json(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    if (ctx.json.empty() || !(ctx.json_of == ctx.spec)) {
        ContextSpec shown = ctx.spec;
        if (has_private_regions(shown.ops))
            for (Target& t : shown.targets) t.regions.clear();
        ctx.json = spec_to_json(shown).dump();
        ctx.json_of = ctx.spec;
    }
    return ctx.json;
}

std::string Manager::full_spec_json(const std::string& name) const { return spec_to_json(get(name).spec).dump(); }

std::string Manager::last_error(const std::string& name) const { return get(name).last_error; }

std::string Manager::access_source(const std::string& name) const { return get(name).monitor->access_source(); }

std::string Manager::access_source_reason(const std::string& name) const {
    return get(name).monitor->access_source_reason();
}

std::string Manager::context_backend(const std::string& name) const { return to_string(get(name).monitor->backend()); }

std::string Manager::context_backend_reason(const std::string& name) const {
    const std::string& own = get(name).monitor->backend_reason();
    return own.empty() ? backend_reason_ : own;
}

std::string Manager::checkpoint(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    if (ctx.op_in_progress || !ctx.queue.empty()) return "";
    return ctx.monitor->checkpoint();
}

std::map<std::string, ContextSpec> Manager::runtime_contexts() const {
    std::map<std::string, ContextSpec> out;
    for (const auto& [name, ctx] : contexts_)
        // Not the apps' contexts (the app registry keeps those): one whose
        // app was still registering when damond died must not come back alone.
        if (ctx.counted && !ctx.starting) out.emplace(name, ctx.spec);
    return out;
}

std::map<std::string, bool> Manager::config_pause_wishes() const {
    std::map<std::string, bool> out;
    for (const auto& [name, ctx] : contexts_)
        if (ctx.from_config && !ctx.starting && ctx.spec.pause != ctx.config_spec.pause) out.emplace(name, ctx.spec.pause);
    return out;
}

BackendFacts Manager::backend_facts() const {
    if (facts_source_) return facts_source_();
    BackendFacts none;
    none.pause_mode_reason = "no kernel tree was given to damond";
    return none;
}

std::string Manager::status_text() const {
    size_t paused = 0, n = 0;
    for (const auto& [name, ctx] : contexts_) {
        if (ctx.starting) continue;
        ++n;
        if (ctx.monitor->state() == MonitorState::Paused) ++paused;
    }
    std::string text = std::to_string(n) + (n == 1 ? " context, " : " contexts, ") + std::to_string(paused) +
                       " paused, backend " + to_string(backend_);
    if (backend_detail_)
        if (const std::string d = backend_detail_(); !d.empty()) text += " (" + d + ")";
    if (!holds_.empty()) text += ", " + std::to_string(holds_.all().size()) + " pause hold(s)";
    return text;
}

}  // namespace damond
