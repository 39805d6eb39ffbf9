// The context runner: how an operation on a context is queued, made when its
// turn comes, run on the context's thread or here, timed, given up and
// reported. The operations themselves are named members (pause_operation,
// commit_operation, ...) next to the calls that submit them.
#include "manager/manager.hpp"

#include "base/errors.hpp"
#include "base/log.hpp"

#include "monitor/given_up_monitor.hpp"

#include <algorithm>
#include <cstdio>

namespace damond {

// --- the one way a monitor is driven ---------------------------------------

void Manager::submit(const std::string& name, MakeOperation make, Done done) {
    auto it = contexts_.find(name);
    if (it == contexts_.end()) {
        done(std::make_exception_ptr(DamondError(ErrorKind::NoSuchContext, "no context named '" + name + "'")));
        return;
    }
    it->second.queue.push_back(Step{std::move(make), std::move(done), now_us_()});
    if (!it->second.op_in_progress) dispatch(name);
}

void Manager::dispatch(const std::string& name) {
    for (;;) {
        auto it = contexts_.find(name);
        if (it == contexts_.end() || it->second.op_in_progress || it->second.queue.empty()) return;
        Step step = std::move(it->second.queue.front());
        it->second.queue.pop_front();
        std::optional<Operation> op;
        try {
            op = step.make();
        } catch (...) {
            step.done(std::current_exception());  // refused before anything ran
            continue;
        }
        if (!op) {
            step.done(nullptr);  // nothing to do
            continue;
        }
        launch(name, std::move(*op), std::move(step.done), step.submitted_us);
    }
}

void Manager::launch(const std::string& name, Operation op, Done done, uint64_t submitted_us) {
    ManagedContext& ctx = contexts_.at(name);
    ++ctx.generation;
    ctx.op_started_us = now_us_();
    ctx.last_op = {ctx.op_started_us - std::min(ctx.op_started_us, submitted_us), 0, ""};
    const MonitorState before = ctx.monitor->state();
    auto conclude = [this, name, succeeded = std::move(op.succeeded), failed = std::move(op.failed),
                     done = std::move(done), before](std::exception_ptr error) {
        if (auto it = contexts_.find(name); it != contexts_.end()) {
            // Read here, on this thread, after the context's thread handed
            // the end over (given up: the calls so far).
            ManagedContext& c = it->second;
            const uint64_t now = now_us_();
            c.last_op.ran_us = now - std::min(now, c.op_started_us);
            if (CallTrace* trace = c.monitor->call_trace()) c.last_op.calls = trace->text();
        }
        if (contexts_.count(name)) {
            if (!error) {
                if (succeeded) succeeded();
            } else {
                try {
                    std::rethrow_exception(error);
                } catch (const DamondError& e) {
                    if (failed) failed(e);
                } catch (const std::exception& e) {
                    error = std::make_exception_ptr(DamondError(ErrorKind::Failed, e.what()));
                    if (failed) failed(DamondError(ErrorKind::Failed, e.what()));
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
            op.run(*ctx.monitor);
        } catch (...) {
            error = std::current_exception();
        }
        conclude(error);
        return;
    }
    // A blocking monitor's operation runs on the context's thread, whose
    // calls into the kernel the watchdog times while this thread goes on.
    if (!ctx.thread) ctx.thread = std::make_unique<ContextThread>();
    Monitor* monitor = ctx.monitor.get();
    CallWatch* watch = monitor->call_watch();
    ctx.op_in_progress = true;
    ctx.given_up = std::make_shared<bool>(false);
    ctx.ticket = watch ? watchdog_.watch(*watch) : 0;
    ctx.conclude = std::move(conclude);
    ctx.thread->run([this, name, monitor, run = std::move(op.run), given_up = ctx.given_up, ticket = ctx.ticket] {
        std::exception_ptr error;
        if (CallTrace* trace = monitor->call_trace()) trace->clear();
        try {
            run(*monitor);
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

std::string Manager::last_operation_text(const std::string& name) const {
    const OperationTimes& t = get(name).last_op;
    if (t.calls.empty()) return "";
    char head[80];
    std::snprintf(head, sizeof head, " (queued %.1f ms, ran %.1f ms: ", double(t.queued_us) / 1000.0,
                  double(t.ran_us) / 1000.0);
    return head + t.calls + ")";
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
    log_error(
        "context '" + name + "': a call into the kernel did not return in time, so its thread is left behind: " + error,
        LogFields(message_id::kContextState, name, "", ctx.monitor->kdamond()));
    ContextThread::abandon(std::move(ctx.thread), [stuck]() mutable { stuck.reset(); });
}

void Manager::operation_ended(const std::string& name) {
    ManagedContext& ctx = contexts_.at(name);
    if (ctx.queue.empty() && !ctx.op_in_progress) schedule_settle(name);
}

void Manager::schedule_settle(const std::string& name) {
    ManagedContext& ctx = contexts_.at(name);
    if (ctx.starting) return;
    const uint64_t after = ctx.monitor->settle_after_ms();
    if (!after) return;
    const uint64_t generation = ctx.generation;
    schedule_(after, [this, name, generation] {
        auto it = contexts_.find(name);
        // Anything that happened since makes this one stale; it scheduled its own.
        if (it == contexts_.end() || it->second.generation != generation || it->second.op_in_progress ||
            !it->second.queue.empty())
            return;
        submit(
            name, [] { return Operation{[](Monitor& m) { m.settle(); }}; },
            [name](std::exception_ptr error) {
                if (error) log_error("context '" + name + "': " + error_text(error));
            });
    });
}

}  // namespace damond
