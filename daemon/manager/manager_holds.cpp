// Pause holds: taken, released, and the contexts brought in line with them.
#include "manager/manager.hpp"

#include "base/errors.hpp"
#include "base/log.hpp"
#include "manager/or_fail.hpp"

namespace damond {

// --- holds -------------------------------------------------------------------

void Manager::reconcile(const std::string& name, Done done) {
    submit(
        name, [this, name] { return reconcile_operation(name); }, std::move(done));
}

std::optional<Manager::Operation> Manager::reconcile_operation(const std::string& name) {
    const MonitorState before = get(name).monitor->state();
    const bool pause = get(name).spec.pause || holds_.covers(name);
    if (!(pause && before == MonitorState::Running) && !(!pause && before == MonitorState::Paused)) return std::nullopt;
    return Operation{
        [pause](Monitor& m) { pause ? m.pause() : m.resume(); },
        [this, name, before] {
            if (get(name).monitor->state() == before) return;
            log_info("context '" + name + "' " + to_string(get(name).monitor->state()) + last_operation_text(name),
                     context_log(message_id::kContextState, name));
            notify(name, {ContextField::State});
        }};
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
        reconcile(name, logged);
    }
    listener_.holds_changed();
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

void Manager::restore_holds(const std::vector<PauseHold>& holds, uint32_t next_cookie, Done done) {
    uint32_t next = next_cookie;
    for (const PauseHold& h : holds) {
        holds_.restore(h);
        if (h.cookie >= next) next = h.cookie + 1;
    }
    holds_.set_next_cookie(next);
    Done part = join_parts(holds.size(), std::move(done));
    for (const PauseHold& h : holds) holds_changed_for(h, part);
}

}  // namespace damond
