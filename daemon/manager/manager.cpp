#include "manager/manager.hpp"

#include "errors.hpp"
#include "log.hpp"
#include "monitor/snapshot_json.hpp"
#include "spec/spec_json.hpp"

namespace damond {

void check_context_name(const std::string& name) {
    if (name.empty() || name.size() > 255)
        throw DamondError(ErrorKind::InvalidArgument, "context name must be 1 to 255 bytes long");
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f || c == '/')
            throw DamondError(ErrorKind::InvalidArgument, "context name must not contain control characters or '/'");
}

Manager::Manager(std::string backend, MonitorFactory factory, Poster post)
    : backend_(std::move(backend)), factory_(std::move(factory)), post_(std::move(post)) {}

Manager::~Manager() { stop_all(); }

Manager::ManagedContext& Manager::get(const std::string& name) {
    auto it = contexts_.find(name);
    if (it == contexts_.end()) throw DamondError(ErrorKind::NoSuchContext, "no context named '" + name + "'");
    return it->second;
}

const Manager::ManagedContext& Manager::get(const std::string& name) const {
    return const_cast<Manager*>(this)->get(name);
}

void Manager::notify(const std::string& name, const std::vector<ContextField>& fields) {
    if (fields.empty()) return;
    if (listener_) listener_->context_changed(name, fields);
    bool kept = false;
    for (ContextField f : fields) kept = kept || f == ContextField::Spec || f == ContextField::Holds;
    changed(kept);
}

void Manager::add(const std::string& name, const ContextSpec& spec, bool from_config) {
    check_context_name(name);
    if (has_context(name)) throw DamondError(ErrorKind::Busy, "a context named '" + name + "' already exists");
    ManagedContext ctx;
    ctx.spec = spec;
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
    ctx.monitor->start();
    ctx.from_config = from_config;
    ctx.config_spec = spec;
    contexts_.emplace(name, std::move(ctx));
    log_info("context '" + name + "' created, " + to_string(contexts_.at(name).monitor->state()),
             {message_id::kContextCreated, name});
    if (listener_) listener_->context_added(name);
    changed(true);
}

void Manager::monitor_event(const std::string& name) {
    auto it = contexts_.find(name);
    if (it == contexts_.end() || it->second.op_in_progress) return;  // the operation's end reports it
    ManagedContext& ctx = it->second;
    const std::string error = ctx.monitor->error();
    std::vector<ContextField> changed{ContextField::State};
    if (!error.empty() && error != ctx.last_error) {
        ctx.last_error = error;
        changed.push_back(ContextField::LastError);
    }
    log_info("context '" + name + "' " + to_string(ctx.monitor->state()) + (error.empty() ? "" : ": " + error),
             {message_id::kContextState, name});
    notify(name, changed);
}

void Manager::create_context(const std::string& name, const std::string& spec_json) {
    check_context_name(name);
    ContextSpec spec;
    try {
        spec = spec_from_json_text(spec_json);
    } catch (const SpecError& e) {
        throw DamondError(ErrorKind::InvalidSpec, e.what());
    }
    add(name, spec, false);
}

void Manager::remove_context(const std::string& name) {
    check_idle(name);
    get(name).monitor->stop();
    contexts_.erase(name);
    const bool had_holds = !holds_.remove_on(name).empty();
    log_info("context '" + name + "' removed", {message_id::kContextRemoved, name});
    if (listener_) listener_->context_removed(name);
    if (had_holds && listener_) listener_->holds_changed();
    changed(true);
}

MonitorState Manager::current_state(const ManagedContext& ctx) const {
    // While a blocking operation runs, the monitor belongs to its worker.
    return ctx.op_in_progress ? ctx.state_before_op : ctx.monitor->state();
}

void Manager::check_idle(const std::string& name) const {
    if (get(name).op_in_progress)
        throw DamondError(ErrorKind::Busy, "an operation on context '" + name + "' is still in progress");
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
        log_info("context '" + name + "' " + to_string(ctx.monitor->state()), {message_id::kContextState, name});
    notify(name, changed);
}

void Manager::set_pause(const std::string& name, bool pause) {
    check_idle(name);
    ManagedContext& ctx = get(name);
    const MonitorState before = ctx.monitor->state();
    // A held context stays paused; the wish to run is kept for later.
    if (pause || holds_.covers(name)) ctx.monitor->pause();
    else ctx.monitor->resume();
    finish_pause(name, pause, before);
}

void Manager::run_async(const std::string& name, std::function<void(Monitor&)> op, std::function<void()> finish,
                        std::function<void(const DamondError&)> on_error, Done done) {
    ManagedContext& ctx = get(name);
    if (!ctx.monitor->blocking()) {
        try {
            op(*ctx.monitor);
        } catch (const DamondError& e) {
            on_error(e);
            done(std::current_exception());
            return;
        }
        finish();
        done(nullptr);
        return;
    }
    check_idle(name);
    ctx.op_in_progress = true;
    ctx.state_before_op = ctx.monitor->state();
    if (!ctx.worker) ctx.worker = std::make_unique<OpWorker>();
    Monitor* monitor = ctx.monitor.get();
    ctx.worker->run([this, name, monitor, op, finish, on_error, done] {
        std::exception_ptr error;
        try {
            op(*monitor);
        } catch (...) {
            error = std::current_exception();
        }
        post_([this, name, error, finish, on_error, done] {
            auto it = contexts_.find(name);
            if (it != contexts_.end()) {
                it->second.op_in_progress = false;
                if (!error) finish();
                else try {
                    std::rethrow_exception(error);
                } catch (const DamondError& e) {
                    on_error(e);
                } catch (...) {
                }
                // A failure (a missed deadline) may have changed the state.
                if (error) monitor_event(name);
                // A hold taken or released while the operation ran.
                try {
                    reconcile(name);
                } catch (const std::exception& e) {
                    log_error("context '" + name + "': " + e.what());
                }
            }
            done(error);
        });
    });
}

void Manager::pause_context_async(const std::string& name, Done done) {
    const MonitorState before = current_state(get(name));
    run_async(
        name, [](Monitor& m) { m.pause(); }, [this, name, before] { finish_pause(name, true, before); },
        [](const DamondError&) {}, std::move(done));
}

void Manager::resume_context_async(const std::string& name, Done done) {
    const MonitorState before = current_state(get(name));
    if (holds_.covers(name)) {  // nothing to do until the last hold goes
        check_idle(name);
        finish_pause(name, false, before);
        done(nullptr);
        return;
    }
    run_async(
        name, [](Monitor& m) { m.resume(); }, [this, name, before] { finish_pause(name, false, before); },
        [](const DamondError&) {}, std::move(done));
}

void Manager::commit_context_async(const std::string& name, const std::string& patch_json, Done done) {
    ManagedContext& ctx = get(name);
    ContextSpec next;
    try {
        next = spec_apply_patch(ctx.spec, patch_json);
    } catch (const SpecError& e) {
        ctx.last_error = std::string("commit rejected: ") + e.what();
        notify(name, {ContextField::LastError});
        throw DamondError(ErrorKind::InvalidSpec, e.what());
    }
    const MonitorState before = current_state(ctx);
    ContextSpec to_monitor = next;
    to_monitor.pause = next.pause || holds_.covers(name);
    run_async(
        name, [to_monitor](Monitor& m) { m.commit(to_monitor); }, [this, name, next, before] { finish_commit(name, next, before); },
        [this, name](const DamondError& e) { commit_failed(name, e); }, std::move(done));
}

void Manager::pause_context(const std::string& name) { set_pause(name, true); }
void Manager::resume_context(const std::string& name) { set_pause(name, false); }

void Manager::commit_failed(const std::string& name, const DamondError& e) {
    ManagedContext& ctx = get(name);
    ctx.last_error = std::string("commit rejected: ") + e.what();
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
    log_info("context '" + name + "' committed", {message_id::kContextCommitted, name});
    notify(name, changed);
}

void Manager::commit_spec(const std::string& name, const ContextSpec& spec) {
    check_idle(name);
    ManagedContext& ctx = get(name);
    const MonitorState before = ctx.monitor->state();
    ContextSpec to_monitor = spec;
    to_monitor.pause = spec.pause || holds_.covers(name);
    try {
        ctx.monitor->commit(to_monitor);
    } catch (const DamondError& e) {
        commit_failed(name, e);
        throw;
    }
    finish_commit(name, spec, before);
}

void Manager::commit_context(const std::string& name, const std::string& patch_json) {
    ManagedContext& ctx = get(name);
    ContextSpec next;
    try {
        next = spec_apply_patch(ctx.spec, patch_json);
    } catch (const SpecError& e) {
        ctx.last_error = std::string("commit rejected: ") + e.what();
        notify(name, {ContextField::LastError});
        throw DamondError(ErrorKind::InvalidSpec, e.what());
    }
    commit_spec(name, next);
}

std::vector<ContextInfo> Manager::list_contexts() const {
    std::vector<ContextInfo> out;
    for (const auto& [name, ctx] : contexts_) out.push_back(ContextInfo{name, current_state(ctx)});
    return out;
}

MonitorState Manager::state(const std::string& name) const { return current_state(get(name)); }

std::string Manager::spec_json(const std::string& name) const { return spec_to_json(get(name).spec).dump(); }

std::string Manager::last_error(const std::string& name) const { return get(name).last_error; }


std::string Manager::access_source(const std::string& name) const { return get(name).monitor->access_source(); }

std::string Manager::access_source_reason(const std::string& name) const {
    return get(name).monitor->access_source_reason();
}

MonitorSnapshot Manager::snapshot(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    if (ctx.op_in_progress) return ctx.last_snapshot;
    ctx.last_snapshot = ctx.monitor->snapshot();
    return ctx.last_snapshot;
}

std::string Manager::snapshot_json(const std::string& name) const { return snapshot_to_json(snapshot(name)).dump(); }

std::vector<std::string> Manager::apply_config(const Config& config) {
    std::vector<std::string> errors;
    std::vector<std::string> dropped;
    for (const auto& [name, ctx] : contexts_)
        if (ctx.from_config && !config.contexts.count(name)) dropped.push_back(name);
    for (const std::string& name : dropped) remove_context(name);

    for (const auto& [name, spec] : config.contexts) {
        try {
            auto it = contexts_.find(name);
            if (it == contexts_.end()) {
                add(name, spec, true);
            } else if (!it->second.from_config) {
                errors.push_back("contexts." + name + ": a context of that name was created over the bus; left alone");
            } else if (!(it->second.config_spec == spec)) {
                ContextSpec next = spec;
                if (spec.pause == it->second.config_spec.pause) next.pause = it->second.spec.pause;
                commit_spec(name, next);
                it->second.config_spec = spec;
            }
        } catch (const std::exception& e) {
            errors.push_back("contexts." + name + ": " + e.what());
        }
    }
    return errors;
}

void Manager::reconcile(const std::string& name) {
    ManagedContext& ctx = get(name);
    if (ctx.op_in_progress) return;  // the operation's end reconciles
    const MonitorState before = ctx.monitor->state();
    const bool pause = ctx.spec.pause || holds_.covers(name);
    if (pause && before == MonitorState::Running) ctx.monitor->pause();
    else if (!pause && before == MonitorState::Paused) ctx.monitor->resume();
    else return;
    log_info("context '" + name + "' " + to_string(ctx.monitor->state()), {message_id::kContextState, name});
    notify(name, {ContextField::State});
}

void Manager::holds_changed_for(const PauseHold& hold) {
    std::vector<std::string> names;
    if (hold.context.empty())
        for (const auto& [name, ctx] : contexts_) names.push_back(name);
    else if (has_context(hold.context))
        names.push_back(hold.context);
    for (const std::string& name : names) {
        try {
            reconcile(name);
        } catch (const std::exception& e) {
            log_error("context '" + name + "': " + e.what());
        }
        notify(name, {ContextField::Holds});
    }
    if (listener_) listener_->holds_changed();
    changed(true);
}

uint32_t Manager::hold_pause(const std::string& context, const std::string& who, const std::string& why,
                             const std::string& owner) {
    check_hold_text(who, why);
    if (!context.empty()) {
        get(context);  // NoSuchContext
        // Nothing half-applied: a context that cannot pause gets no hold.
        const uint32_t cookie = holds_.add(context, who, why, owner);
        try {
            reconcile(context);
        } catch (...) {
            holds_.remove(cookie);
            throw;
        }
        log_info("pause hold " + std::to_string(cookie) + " on '" + context + "' by " + who + ": " + why,
                 {message_id::kHoldTaken, context});
        holds_changed_for(*holds_.find(cookie));
        return cookie;
    }
    const uint32_t cookie = holds_.add("", who, why, owner);
    log_info("pause hold " + std::to_string(cookie) + " on every context by " + who + ": " + why,
             {message_id::kHoldTaken});
    holds_changed_for(*holds_.find(cookie));
    return cookie;
}

void Manager::release_pause(uint32_t cookie, const std::string* only_context) {
    const std::optional<PauseHold> hold = holds_.find(cookie);
    if (!hold || (only_context && hold->context != *only_context))
        throw DamondError(ErrorKind::NoSuchHold, "no pause hold " + std::to_string(cookie) +
                                                     (only_context ? " on context '" + *only_context + "'" : ""));
    holds_.remove(cookie);
    log_info("pause hold " + std::to_string(cookie) + " by " + hold->who + " released",
             {message_id::kHoldReleased, hold->context});
    holds_changed_for(*hold);
}

size_t Manager::release_holds_of(const std::string& owner) {
    const std::vector<PauseHold> gone = holds_.remove_owned_by(owner);
    for (const PauseHold& h : gone) {
        log_info("pause hold " + std::to_string(h.cookie) + " by " + h.who + " released: " + owner + " left the bus",
                 {message_id::kHoldReleased, h.context});
        holds_changed_for(h);
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
    for (const PauseHold& h : holds) holds_changed_for(h);
}

std::string Manager::checkpoint(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    if (ctx.op_in_progress) return "";
    return ctx.monitor->checkpoint();
}

std::map<std::string, ContextSpec> Manager::runtime_contexts() const {
    std::map<std::string, ContextSpec> out;
    for (const auto& [name, ctx] : contexts_)
        if (!ctx.from_config) out.emplace(name, ctx.spec);
    return out;
}

std::map<std::string, bool> Manager::config_pause_wishes() const {
    std::map<std::string, bool> out;
    for (const auto& [name, ctx] : contexts_)
        if (ctx.from_config && ctx.spec.pause != ctx.config_spec.pause) out.emplace(name, ctx.spec.pause);
    return out;
}

KernelProbe Manager::kernel_probe() const {
    if (kernel_prober_) return kernel_prober_();
    KernelProbe none;
    none.pause_mode_reason = "no kernel tree was given to damond";
    return none;
}

std::string Manager::status_text() const {
    size_t paused = 0;
    for (const auto& [name, ctx] : contexts_)
        if (current_state(ctx) == MonitorState::Paused) ++paused;
    std::string text = std::to_string(contexts_.size()) + (contexts_.size() == 1 ? " context, " : " contexts, ") +
                       std::to_string(paused) + " paused, backend " + backend_;
    if (!backend_detail_.empty()) text += " (" + backend_detail_ + ")";
    if (!holds_.empty()) text += ", " + std::to_string(holds_.all().size()) + " pause hold(s)";
    return text;
}

void Manager::stop_all(bool for_restart) {
    for (auto& [name, ctx] : contexts_) {
        if (for_restart) ctx.monitor->stop_for_restart();
        else ctx.monitor->stop();
    }
}

}  // namespace damond
