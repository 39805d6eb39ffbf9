// Who reads a context's regions, and a context whose owner lost its target (access_rules.hpp).
#include "manager/manager.hpp"

#include "base/errors.hpp"
#include "base/log.hpp"

namespace damond {

// --- privacy -----------------------------------------------------------------

void Manager::check_read(const std::string& name, const Requester& who) {
    ManagedContext& ctx = get(name);
    if (!has_private_regions(ctx.spec.ops) || who.uid == 0) return;
    if (who.uid == ctx.owner.uid) {
        if (ctx.access_lost.empty())
            if (std::string why = lost_access(ctx.owner, ctx.spec, read_creds_); !why.empty())
                stop_for_privacy(name, why);
        if (ctx.access_lost.empty()) return;
        throw DamondError(ErrorKind::AccessDenied, "context '" + name + "': " + ctx.access_lost);
    }
    std::string why = "nobody to ask";
    if (who.ask && who.ask(Grant::ReadOthers, why)) return;
    throw DamondError(ErrorKind::AccessDenied,
                      "context '" + name + "' is uid " + std::to_string(ctx.owner.uid) +
                          "'s: its regions (addresses and accesses) are for root, its owner, and callers granted "
                          "read-others (uid " +
                          std::to_string(who.uid) + ": " + why + ")");
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
    submit(
        name, [this, name] { return privacy_stop_operation(name); }, [](std::exception_ptr) {});
}

Manager::Operation Manager::privacy_stop_operation(const std::string& name) {
    const MonitorState before = get(name).monitor->state();
    return {[](Monitor& m) { m.stop(); },
            [this, name, before] {
                if (get(name).monitor->state() != before) notify(name, {ContextField::State});
            }};
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
    if (owner_checks_armed_) return;
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

}  // namespace damond
