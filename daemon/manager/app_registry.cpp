#include "manager/app_registry.hpp"

#include "errors.hpp"
#include "log.hpp"
#include "spec/spec_json.hpp"

namespace damond {

const char* to_string(AppState state) { return state == AppState::Foreground ? "foreground" : "background"; }

AppState app_state_from_string(const std::string& word) {
    if (word == "foreground") return AppState::Foreground;
    if (word == "background") return AppState::Background;
    throw DamondError(ErrorKind::InvalidArgument, "state: unknown app state '" + word + "' (expected foreground or background)");
}

AppRegistry::AppRegistry(Manager& manager, AppsConfig config, std::function<uint64_t()> now_us,
                         std::function<void(std::function<void()>)> post)
    : manager_(manager), config_(std::move(config)), now_us_(std::move(now_us)), post_(std::move(post)) {
    if (post_)
        watcher_ = std::make_unique<PidWatcher>([this](const std::string& app_id) {
            post_([this, app_id] {
                if (has_app(app_id)) unregister_app(app_id, "gone: its process exited");
            });
        });
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
        if (!pid) throw DamondError(ErrorKind::InvalidArgument, "profile '" + profile + "' watches a process: a pid is needed");
        Target t;
        t.pid_target = pid;
        spec.targets = {t};
    }
    return spec;
}

void AppRegistry::register_app(const std::string& app_id, uint32_t pid, const std::string& foreground_profile,
                               const std::string& background_profile) {
    if (app_id.empty() || app_id.size() > 200 || app_id.find('@') != std::string::npos)
        throw DamondError(ErrorKind::InvalidArgument, "app_id must be 1 to 200 bytes without '@'");
    if (has_app(app_id)) throw DamondError(ErrorKind::Busy, "app '" + app_id + "' is registered already");
    const AppRule* rule = rule_for(app_id);
    std::string fg = foreground_profile, bg = background_profile;
    if (fg.empty()) fg = rule ? rule->foreground : config_.default_foreground;
    if (bg.empty()) bg = rule ? rule->background : config_.default_background;
    if (fg.empty() || bg.empty())
        throw DamondError(ErrorKind::NotSupported, "app '" + app_id + "': no rule names it and the config has no "
                                                   "default profile pair (apps.default)");
    // Watched by pidfd from here on: a dead pid fails the registration.
    if (pid && watcher_) watcher_->watch(app_id, static_cast<pid_t>(pid));
    ContextSpec fg_spec, bg_spec;
    try {
        fg_spec = instantiate(fg, pid);
        bg_spec = instantiate(bg, pid);
    } catch (...) {
        if (watcher_) watcher_->unwatch(app_id);
        throw;
    }
    fg_spec.pause = true;  // registered in the background
    bg_spec.pause = false;
    const std::string fg_name = context_name(app_id, AppState::Foreground);
    const std::string bg_name = context_name(app_id, AppState::Background);
    try {
        manager_.create_context(fg_name, spec_to_json(fg_spec).dump());
        try {
            manager_.create_context(bg_name, spec_to_json(bg_spec).dump());
        } catch (...) {
            manager_.remove_context(fg_name);
            throw;
        }
    } catch (...) {
        if (watcher_) watcher_->unwatch(app_id);
        throw;
    }
    AppInfo info;
    info.app_id = app_id;
    if (pid) info.pids.push_back(pid);
    info.foreground_context = fg_name;
    info.background_context = bg_name;
    info.last_switch_us = now_us_();
    apps_.emplace(app_id, info);
    log_info("app '" + app_id + "' registered (profiles " + fg + ", " + bg + ")");
    if (listener_) listener_->app_added(app_id);
}

void AppRegistry::unregister_app(const std::string& app_id, const std::string& reason) {
    const AppInfo info = app(app_id);
    if (watcher_) watcher_->unwatch(app_id);
    for (const std::string& ctx : {info.foreground_context, info.background_context})
        if (manager_.has_context(ctx)) manager_.remove_context(ctx);
    apps_.erase(app_id);
    log_info("app '" + app_id + "' " + reason);
    notify(app_id, to_string(info.state), "gone");
    if (listener_) listener_->app_removed(app_id);
}

const AppInfo& AppRegistry::app(const std::string& app_id) const {
    auto it = apps_.find(app_id);
    if (it == apps_.end()) throw DamondError(ErrorKind::NoSuchApp, "no app '" + app_id + "' is registered");
    return it->second;
}

bool AppRegistry::set_app_state(const std::string& app_id, AppState state, uint32_t pid) {
    if (!has_app(app_id)) {
        if (!(config_.auto_register && rule_for(app_id)))
            throw DamondError(ErrorKind::NoSuchApp, "no app '" + app_id + "' is registered");
        register_app(app_id, pid);
    }
    AppInfo& info = apps_.at(app_id);
    if (info.state == state) return false;  // repeated events change nothing
    const std::string from = context_name(app_id, info.state), to = context_name(app_id, state);
    // One transaction: if the target cannot resume, the paused one runs again.
    manager_.pause_context(from);
    try {
        manager_.resume_context(to);
    } catch (...) {
        try {
            manager_.resume_context(from);
        } catch (const std::exception& e) {
            log_error("app '" + app_id + "': could not resume " + from + " after a failed switch: " + e.what());
        }
        throw;
    }
    const AppState old = info.state;
    info.state = state;
    info.last_switch_us = now_us_();
    notify(app_id, to_string(old), to_string(state));
    if (state == AppState::Foreground && config_.one_foreground) {
        std::vector<std::string> others;
        for (const auto& [id, other] : apps_)
            if (id != app_id && other.state == AppState::Foreground) others.push_back(id);
        for (const std::string& id : others) set_app_state(id, AppState::Background);
    }
    return true;
}

std::vector<AppInfo> AppRegistry::list() const {
    std::vector<AppInfo> out;
    for (const auto& [id, info] : apps_) out.push_back(info);
    return out;
}

std::string AppRegistry::foreground_app() const {
    for (const auto& [id, info] : apps_)
        if (info.state == AppState::Foreground) return id;
    return "";
}

void AppRegistry::notify(const std::string& app_id, const std::string& old_state, const std::string& new_state) {
    if (listener_) listener_->app_state_changed(app_id, old_state, new_state);
}

}  // namespace damond
