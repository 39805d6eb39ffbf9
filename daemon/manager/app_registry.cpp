#include "manager/app_registry.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "base/errors.hpp"
#include "base/log.hpp"
#include "manager/app_processes.hpp"
#include "sources/proc_fs.hpp"
#include "sources/process_creds.hpp"
#include "spec/spec_json.hpp"

namespace damond {

const char* to_string(AppState state) { return state == AppState::Foreground ? "foreground" : "background"; }

const char* to_string(AppTransition transition) {
    switch (transition) {
    case AppTransition::Foreground: return "foreground";
    case AppTransition::Background: return "background";
    case AppTransition::Gone: return "gone";
    }
    return "?";
}

AppTransition transition_to(AppState state) {
    return state == AppState::Foreground ? AppTransition::Foreground : AppTransition::Background;
}

AppState app_state_from_string(const std::string& word) {
    if (word == "foreground") return AppState::Foreground;
    if (word == "background") return AppState::Background;
    throw DamondError(ErrorKind::InvalidArgument,
                      "state: unknown app state '" + word + "' (expected foreground or background)");
}

namespace {

template <typename Part>
Part required(Part part, const char* name, const char* without) {
    if (!part)
        throw std::invalid_argument(std::string("AppRegistry::Parts.") + name + " is missing: without it " + without);
    return part;
}

}  // namespace

AppRegistry::AppRegistry(Manager& manager, Parts parts)
    : manager_(manager),
      config_(std::move(parts.config)),
      now_us_(required(std::move(parts.now_us), "now_us", "no switch would have a time")),
      post_(required(std::move(parts.post), "post", "no app would go when its processes exit")),
      schedule_(required(std::move(parts.schedule), "schedule", "no debounced switch would happen")),
      listener_(*required(parts.listener, "listener", "nobody would hear of a change")),
      watcher_(std::make_unique<PidWatcher>([this](const std::string& app_id, pid_t pid) {
          post_([this, app_id, pid] { pid_exited(app_id, static_cast<uint32_t>(pid)); });
      })) {
    AppReclaimer::Parts r;
    r.manager = &manager_;
    r.now_us = now_us_;
    r.post = post_;
    r.schedule = schedule_;
    r.system = parts.reclaim_system;
    if (!r.system)
        throw std::invalid_argument(
            "AppRegistry::Parts.reclaim_system is missing: no background app could give memory back");
    r.changed = [this](const std::string& app_id) { listener_.app_reclaim_changed(app_id); };
    reclaimer_ = std::make_unique<AppReclaimer>(std::move(r), config_.reclaim);
}

std::string AppRegistry::own_cgroup(const std::string& app_id) const {
    const AppRule* rule = rule_for(app_id);
    if (!rule || rule->cgroup.empty()) return "";
    // One whose freezer state is an event source says where the app is: damond
    // freezing it would be heard as the app's own doing.
    for (const FreezerWatch& w : config_.freezer)
        if (w.cgroup == rule->cgroup) return "";
    return rule->cgroup;
}

bool AppRegistry::reclaims(const std::string& app_id) const {
    const AppRule* rule = rule_for(app_id);
    return rule && rule->reclaim ? *rule->reclaim : config_.reclaim.enabled;
}

std::string AppRegistry::context_name(const std::string& app_id, AppState state) {
    return app_id + "@" + to_string(state);
}

const AppRule* AppRegistry::rule_for(const std::string& app_id) const {
    for (const AppRule& r : config_.rules)
        if (r.app_id == app_id) return &r;
    return nullptr;
}

ContextSpec AppRegistry::instantiate(const std::string& profile, uint32_t pid) const {
    auto it = config_.profiles.find(profile);
    if (it == config_.profiles.end())
        throw DamondError(ErrorKind::InvalidArgument, "no profile named '" + profile + "'");
    ContextSpec spec = it->second;
    // A profile that watches a process watches this app's.
    if (watches_process(spec.ops)) {
        if (!pid)
            throw DamondError(
                ErrorKind::InvalidArgument,
                "profile '" + profile + "' watches a process: a pid is needed (or a rule's exe or cgroup)");
        Target t;
        t.pid_target = pid;
        spec.targets = {t};
    }
    return spec;
}

void AppRegistry::register_app(const std::string& app_id, uint32_t pid, const std::string& foreground_profile,
                               const std::string& background_profile, Done done, const Requester& who) {
    std::vector<uint32_t> pids;
    if (pid) pids.push_back(pid);
    do_register(app_id, pids, pid != 0, foreground_profile, background_profile, std::move(done), who);
}

void AppRegistry::check_app_limits(const std::string& caller) const {
    if (manager_.restoring()) return;  // what was acknowledged before stays
    const Limits& limits = manager_.limits();
    const size_t total = apps_.size() + registering_.size();
    if (total >= limits.apps)
        throw DamondError(ErrorKind::LimitExceeded,
                          "limits.apps: " + std::to_string(total) + " apps are registered, the most damond keeps");
    if (caller.empty()) return;
    size_t mine = 0;
    for (const auto& entry : apps_) mine += entry.second.caller == caller;
    for (const auto& entry : registering_callers_) mine += entry.second == caller;
    if (mine >= limits.apps_per_caller)
        throw DamondError(ErrorKind::LimitExceeded, "limits.apps_per_caller: " + caller + " has registered " +
                                                        std::to_string(mine) + " apps, the most one caller may");
}

void AppRegistry::register_app_pids(const std::string& app_id, const std::vector<uint32_t>& pids, Done done,
                                    const Requester& for_user) {
    do_register(app_id, pids, false, "", "", std::move(done), for_user);
}

void AppRegistry::unwatch_all(const std::string& app_id, const std::vector<uint32_t>& pids) {
    for (uint32_t p : pids) watcher_->unwatch(app_id, static_cast<pid_t>(p));
}

void AppRegistry::do_register(const std::string& app_id, std::vector<uint32_t> pids, bool pids_given,
                              const std::string& foreground_profile, const std::string& background_profile, Done done,
                              const Requester& who, const Ownership* restored) {
    const std::string& caller = who.limits_key;
    std::vector<uint32_t> watched;
    ContextSpec fg_spec, bg_spec;
    Ownership owner;
    std::string fg = foreground_profile, bg = background_profile;
    try {
        if (app_id.empty() || app_id.size() > 200 || app_id.find('@') != std::string::npos ||
            app_id.find('\n') != std::string::npos)
            throw DamondError(ErrorKind::InvalidArgument, "app_id must be 1 to 200 bytes without '@' or newlines");
        if (has_app(app_id) || registering_.count(app_id))
            throw DamondError(ErrorKind::Busy, "app '" + app_id + "' is registered already");
        check_app_limits(caller);
        const AppRule* rule = rule_for(app_id);
        if (fg.empty()) fg = rule ? rule->foreground : config_.default_foreground;
        if (bg.empty()) bg = rule ? rule->background : config_.default_background;
        if (fg.empty() || bg.empty())
            throw DamondError(ErrorKind::NotSupported, "app '" + app_id +
                                                           "': no rule names it and the config has no "
                                                           "default profile pair (apps.default)");
        if (pids.empty() && rule) {
            if (!rule->cgroup.empty()) pids = pids_in_cgroup(rule->cgroup);
            if (pids.empty() && !rule->exe.empty()) pids = pids_running_exe(rule->exe);
        }
        // Watched by pidfd from here on. A pid the caller gave must be alive;
        // one found in a cgroup or /proc may have gone since, and is skipped.
        for (uint32_t p : pids) {
            try {
                watcher_->watch(app_id, static_cast<pid_t>(p));
                watched.push_back(p);
            } catch (const DamondError&) {
                if (pids_given) throw;
            }
        }
        // The profiles watch the first process: of those found rather than
        // given, the first `who` may watch itself.
        if (!pids_given && !restored)
            for (size_t i = 0; i < watched.size(); ++i) {
                const auto creds = read_process_creds(watched[i]);
                if (creds && why_not_readable(who.uid, who.groups, *creds).empty()) {
                    std::rotate(watched.begin(), watched.begin() + static_cast<std::ptrdiff_t>(i), watched.end());
                    break;
                }
            }
        const uint32_t first = watched.empty() ? 0 : watched.front();
        fg_spec = instantiate(fg, first);
        bg_spec = instantiate(bg, first);
        if (restored) {
            owner = *restored;
        } else {
            owner = admit_targets(who, fg_spec, proc_creds_reader());
            owner.granted = admit_targets(who, bg_spec, proc_creds_reader()).granted || owner.granted;
        }
    } catch (...) {
        unwatch_all(app_id, watched);
        done(std::current_exception());
        return;
    }
    fg_spec.pause = true;  // registered in the background
    bg_spec.pause = false;
    const std::string fg_name = context_name(app_id, AppState::Foreground);
    const std::string bg_name = context_name(app_id, AppState::Background);
    registering_.insert(app_id);
    registering_callers_[app_id] = caller;
    auto failed = [this, app_id, watched, done](std::exception_ptr error) {
        registering_.erase(app_id);
        registering_callers_.erase(app_id);
        unwatch_all(app_id, watched);
        done(error);
    };
    auto registered = [this, app_id, watched, fg_name, bg_name, fg, bg, done, caller, owner] {
        registering_.erase(app_id);
        registering_callers_.erase(app_id);
        AppInfo info;
        info.caller = caller;
        info.owner = owner;
        info.app_id = app_id;
        info.pids = watched;
        info.foreground_context = fg_name;
        info.background_context = bg_name;
        info.last_switch_us = now_us_();
        info.foreground_profile = fg;
        info.background_profile = bg;
        for (uint32_t p : watched)
            if (auto t = process_start_time(p)) info.start_times[p] = *t;
        apps_.emplace(app_id, info);
        log_info("app '" + app_id + "' registered (profiles " + fg + ", " + bg + ", " + std::to_string(watched.size()) +
                     " process(es))",
                 {message_id::kAppRegistered, "", app_id});
        listener_.app_added(app_id);
        changed();
        done(nullptr);
    };
    manager_.create_context(
        fg_name, fg_spec,
        [this, fg_name, bg_name, bg_spec, failed, registered, owner](std::exception_ptr error) {
            if (error) return failed(error);
            manager_.create_context(
                bg_name, bg_spec,
                [this, fg_name, failed, registered](std::exception_ptr error) {
                    if (!error) return registered();
                    // Nothing left behind: the first context goes again.
                    manager_.remove_context(fg_name, [failed, error](std::exception_ptr) { failed(error); });
                },
                owner);
        },
        owner);
}

void AppRegistry::restore_app(const std::string& app_id, AppState state,
                              const std::vector<std::pair<uint32_t, uint64_t>>& processes,
                              const std::string& fg_profile, const std::string& bg_profile, const std::string& caller,
                              const Ownership& owner, Done done) {
    std::vector<uint32_t> alive;
    for (const auto& [pid, start] : processes)
        if (process_start_time(pid) == start) alive.push_back(pid);
    if (!processes.empty() && alive.empty())
        return done(std::make_exception_ptr(DamondError(ErrorKind::Failed, "its processes are gone")));
    Requester who;
    who.limits_key = caller;
    do_register(
        app_id, alive, false, fg_profile, bg_profile,
        [this, app_id, state, done](std::exception_ptr error) {
            if (error || state != AppState::Foreground) return done(error);
            switch_now(
                app_id, state, [done](std::exception_ptr e, bool) { done(e); }, [] {});
        },
        who, &owner);
}

void AppRegistry::pid_exited(const std::string& app_id, uint32_t pid) {
    auto it = apps_.find(app_id);
    if (it == apps_.end()) return;
    auto& pids = it->second.pids;
    pids.erase(std::remove(pids.begin(), pids.end(), pid), pids.end());
    it->second.start_times.erase(pid);
    watcher_->unwatch(app_id, static_cast<pid_t>(pid));
    if (pids.empty()) {
        unregister_app(app_id, "gone: its last process exited", [app_id](std::exception_ptr error) {
            if (error) log_error("app '" + app_id + "': " + error_text(error));
        });
        return;
    }
    listener_.app_pids_changed(app_id);
    changed();
}

void AppRegistry::unregister_app(const std::string& app_id, const std::string& reason, Done done) {
    const AppInfo* found = apps_.count(app_id) ? &apps_.at(app_id) : nullptr;
    if (!found) {
        done(std::make_exception_ptr(DamondError(ErrorKind::NoSuchApp, "no app '" + app_id + "' is registered")));
        return;
    }
    const AppInfo info = *found;
    unwatch_all(app_id, info.pids);
    // The app goes at once (a second unregister finds nothing); its contexts
    // follow as their monitors stop.
    apps_.erase(app_id);
    forget_recent(app_id);
    reclaimer_->forget(app_id);
    pending_.erase(app_id);
    debounce_until_.erase(app_id);
    log_info("app '" + app_id + "' " + reason, {message_id::kAppGone, "", app_id});
    notify(app_id, info.state, AppTransition::Gone);
    listener_.app_removed(app_id);
    changed();
    std::vector<std::string> contexts;
    for (const std::string& ctx : {info.foreground_context, info.background_context})
        if (manager_.name_taken(ctx)) contexts.push_back(ctx);
    Done part = join_parts(contexts.size(), done);
    for (const std::string& ctx : contexts) manager_.remove_context(ctx, part);
}

const AppInfo& AppRegistry::app(const std::string& app_id) const {
    auto it = apps_.find(app_id);
    if (it == apps_.end()) throw DamondError(ErrorKind::NoSuchApp, "no app '" + app_id + "' is registered");
    return it->second;
}

void AppRegistry::set_app_state(const std::string& app_id, AppState state, uint32_t pid, Switched done,
                                const Requester& who) {
    if (!has_app(app_id)) {
        if (!(config_.auto_register && rule_for(app_id))) {
            done(std::make_exception_ptr(DamondError(ErrorKind::NoSuchApp, "no app '" + app_id + "' is registered")),
                 false);
            return;
        }
        register_app(
            app_id, pid, "", "",
            [this, app_id, state, done](std::exception_ptr error) {
                if (error) return done(error, false);
                set_app_state(app_id, state, 0, done);
            },
            who);
        return;
    }
    if (config_.debounce_ms) {
        const uint64_t now = now_us_();
        auto until = debounce_until_.find(app_id);
        if (until != debounce_until_.end() && now < until->second) {
            // Within the quiet period: remember the last word, decide at its end.
            if (state == apps_.at(app_id).state)
                pending_.erase(app_id);
            else
                pending_[app_id] = state;
            if (timer_armed_.insert(app_id).second)
                schedule_(until->second, [this, app_id] { debounce_fired(app_id); });
            done(nullptr, false);
            return;
        }
    }
    request_switch(app_id, state, std::move(done));
}

void AppRegistry::source_event(const std::string& app_id, AppState state, const std::vector<uint32_t>& pids,
                               const std::string& cgroup, Switched done) {
    if (has_app(app_id)) return set_app_state(app_id, state, 0, std::move(done));
    register_app_pids(
        app_id, pids,
        [this, app_id, state, done](std::exception_ptr error) {
            if (error) return done(error, false);
            set_app_state(app_id, state, 0, done);
        },
        Requester::user(uid_of_cgroup(cgroup)));
}

void AppRegistry::debounce_fired(const std::string& app_id) {
    timer_armed_.erase(app_id);
    auto it = pending_.find(app_id);
    if (it == pending_.end() || !has_app(app_id)) return;
    const AppState state = it->second;
    pending_.erase(it);
    request_switch(app_id, state, [app_id, state](std::exception_ptr error, bool) {
        if (error)
            log_error("app '" + app_id + "': debounced switch to " + to_string(state) +
                      " failed: " + error_text(error));
    });
}

void AppRegistry::request_switch(const std::string& app_id, AppState state, Switched done) {
    switch_queue_[app_id].push_back(SwitchRequest{state, std::move(done)});
    if (!switching_.count(app_id)) next_switch(app_id);
}

void AppRegistry::next_switch(const std::string& app_id) {
    auto q = switch_queue_.find(app_id);
    if (q == switch_queue_.end() || q->second.empty()) {
        switch_queue_.erase(app_id);
        return;
    }
    SwitchRequest req = std::move(q->second.front());
    q->second.pop_front();
    if (!has_app(app_id)) {
        req.done(std::make_exception_ptr(DamondError(ErrorKind::NoSuchApp, "app '" + app_id + "' is gone")), false);
        return next_switch(app_id);
    }
    switching_.insert(app_id);
    switch_now(app_id, req.state, std::move(req.done), [this, app_id] {
        switching_.erase(app_id);
        next_switch(app_id);
    });
}

void AppRegistry::switch_now(const std::string& app_id, AppState state, Switched answer,
                             std::function<void()> settled) {
    AppInfo& info = apps_.at(app_id);
    if (info.state == state) {  // repeated events change nothing
        answer(nullptr, false);
        return settled();
    }
    // Back to the foreground: a reclaim of the app stops first, so that
    // nothing it needs now is paged out after the switch.
    if (state == AppState::Foreground) {
        reclaimer_->before_foreground(app_id, [this, app_id, state, answer, settled] {
            if (!apps_.count(app_id)) {
                answer(std::make_exception_ptr(DamondError(ErrorKind::NoSuchApp, "app '" + app_id + "' is gone")),
                       false);
                return settled();
            }
            resume_for_switch(app_id, state, answer, settled);
        });
        return;
    }
    resume_for_switch(app_id, state, answer, settled);
}

void AppRegistry::resume_for_switch(const std::string& app_id, AppState state, Switched answer,
                                    std::function<void()> settled) {
    AppInfo& info = apps_.at(app_id);
    const std::string from = context_name(app_id, info.state), to = context_name(app_id, state);
    const uint64_t started_us = now_us_();
    // The context the app now needs runs first: a moment of both running is
    // better than a gap of neither. If it cannot run, nothing else changes.
    manager_.resume_context(to, [this, app_id, state, from, to, started_us, answer, settled](std::exception_ptr error) {
        if (error) {
            failed_switches_++;
            answer(error, false);
            return settled();
        }
        if (!apps_.count(app_id)) {  // gone meanwhile: its contexts go with it
            answer(nullptr, false);
            return settled();
        }
        switched(app_id, state, started_us);
        answer(nullptr, true);
        // Then the other one pauses, nobody waiting on it. Should that fail,
        // the app stays switched and the context names the failure.
        auto paused = [app_id, from, settled](std::exception_ptr error) {
            if (error) log_error("app '" + app_id + "': pausing " + from + " after the switch: " + error_text(error));
            settled();
        };
        // Its reclaim needs what the foreground context saw until now: read
        // before the pause (a paused kdamond's regions cannot be read).
        const bool reclaim = state == AppState::Background && reclaims(app_id);
        if (reclaim)
            manager_.pause_context(from, paused);
        else
            manager_.pause_context_unread(from, paused);
        if (state == AppState::Background) {
            left_foreground(app_id);
            if (reclaim)
                reclaimer_->left_foreground(app_id, from, to, own_cgroup(app_id), apps_.at(app_id).start_times);
        } else {
            forget_recent(app_id);
            if (reclaims(app_id)) reclaimer_->returned(app_id, apps_.at(app_id).pids);
        }
    });
}

void AppRegistry::left_foreground(const std::string& app_id) {
    if (!config_.recent_apps) return;
    forget_recent(app_id);
    recent_.push_front(app_id);
    auto mark = [this](const std::string& id, bool quick) {
        const std::string ctx = context_name(id, AppState::Foreground);
        manager_.set_quick_resume(ctx, quick, [ctx](std::exception_ptr error) {
            if (error) log_error("context '" + ctx + "': " + error_text(error));
        });
    };
    mark(app_id, true);
    while (recent_.size() > config_.recent_apps) {
        const std::string out = recent_.back();
        recent_.pop_back();
        if (apps_.count(out)) mark(out, false);
    }
}

void AppRegistry::forget_recent(const std::string& app_id) {
    recent_.erase(std::remove(recent_.begin(), recent_.end(), app_id), recent_.end());
}

void AppRegistry::switched(const std::string& app_id, AppState state, uint64_t started_us) {
    AppInfo& info = apps_.at(app_id);
    const AppState old = info.state;
    const uint64_t now = now_us_();
    switch_seconds_.observe(double(now - std::min(now, started_us)) / 1e6);
    info.switches++;
    if (old == AppState::Foreground) info.foreground_us_before_last_switch += now - std::min(now, info.last_switch_us);
    info.state = state;
    info.last_switch_us = now;
    if (config_.debounce_ms) debounce_until_[app_id] = info.last_switch_us + uint64_t(config_.debounce_ms) * 1000;
    char took[48];
    std::snprintf(took, sizeof took, " in %.1f ms", double(now - std::min(now, started_us)) / 1000.0);
    log_info("app '" + app_id + "' " + to_string(old) + " -> " + to_string(state) + took,
             {message_id::kAppSwitched, "", app_id});
    notify(app_id, old, transition_to(state));
    changed(Durability::Soon);
    // One foreground app at a time: the others go to the background after,
    // each its own switch in its own queue.
    if (state != AppState::Foreground || !config_.one_foreground) return;
    for (const auto& [id, other] : apps_) {
        if (id == app_id || other.state != AppState::Foreground) continue;
        pending_.erase(id);  // a consequence, not an event: no waiting
        request_switch(id, AppState::Background, [id = id](std::exception_ptr error, bool) {
            if (error) log_error("app '" + id + "': to the background: " + error_text(error));
        });
    }
}

std::vector<AppInfo> AppRegistry::list() const {
    std::vector<AppInfo> out;
    for (const auto& [id, info] : apps_) out.push_back(info);
    return out;
}

uint64_t AppRegistry::foreground_us(const AppInfo& info) const {
    uint64_t us = info.foreground_us_before_last_switch;
    if (info.state == AppState::Foreground) {
        const uint64_t now = now_us_();
        us += now - std::min(now, info.last_switch_us);
    }
    return us;
}

std::string AppRegistry::foreground_app() const {
    for (const auto& [id, info] : apps_)
        if (info.state == AppState::Foreground) return id;
    return "";
}

void AppRegistry::notify(const std::string& app_id, AppState old_state, AppTransition now) {
    listener_.app_state_changed(app_id, old_state, now);
}

}  // namespace damond
