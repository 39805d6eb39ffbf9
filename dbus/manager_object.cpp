#include "manager_object.hpp"

#include <algorithm>

#include "authorized_call.hpp"
#include "bus_errors.hpp"
#include "bus_label.hpp"
#include "metrics/damond_metrics.hpp"

namespace damond {

ManagerObject::ManagerObject(sdbus::IConnection& connection, Manager& manager, AppRegistry& apps,
                             CallerAuthorizer& auth, std::string version, ReloadFn reload,
                             std::function<void()> release)
    : AdaptorInterfaces(connection, kManagerPath),
      manager_(manager),
      apps_(apps),
      auth_(auth),
      version_(std::move(version)),
      reload_(std::move(reload)),
      release_(std::move(release)) {
    registerAdaptor();
}

ManagerObject::~ManagerObject() { unregisterAdaptor(); }

void ManagerObject::announce_added(const std::string& name) {
    emitContextAdded(name, sdbus::ObjectPath(context_object_path(name)));
}

void ManagerObject::announce_removed(const std::string& name) {
    emitContextRemoved(name, sdbus::ObjectPath(context_object_path(name)));
}

std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string>> ManagerObject::ListContexts() {
    return counted_call(getObject(), manager_.bus_calls(), [&] {
        std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string>> out;
        for (const ContextInfo& c : manager_.list_contexts())
            out.emplace_back(c.name, sdbus::ObjectPath(context_object_path(c.name)), std::string(to_string(c.state)));
        return out;
    });
}

std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string, uint64_t, std::string, std::string, std::string,
                          std::string, uint64_t, uint64_t, uint64_t, std::string>>
ManagerObject::DescribeContexts() {
    return counted_call(getObject(), manager_.bus_calls(), [&] {
        std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string, uint64_t, std::string, std::string,
                                  std::string, std::string, uint64_t, uint64_t, uint64_t, std::string>>
            out;
        for (const ContextInfo& c : manager_.list_contexts()) {
            const auto figures = manager_.context_stats(c.name);
            out.emplace_back(c.name, sdbus::ObjectPath(context_object_path(c.name)), std::string(to_string(c.state)),
                             manager_.state_since_us(c.name), manager_.context_backend(c.name),
                             manager_.context_backend_reason(c.name), manager_.access_source(c.name),
                             manager_.access_source_reason(c.name), figures.nr_regions, figures.nr_aggregations,
                             figures.nr_samples, manager_.last_error(c.name));
        }
        return out;
    });
}

void ManagerObject::CreateContext(sdbus::Result<sdbus::ObjectPath>&& result, std::string name, std::string spec_json) {
    reply_when_ready(getObject(), manager_.bus_calls(), std::move(result), [&](auto reply) {
        authorized<sdbus::ObjectPath>(
            auth_, getObject(), BusAction::Configure, reply, [this, name, spec_json](const Requester& who, auto done) {
                manager_.create_context(
                    name, spec_json,
                    [done, name](std::exception_ptr e) { done(e, sdbus::ObjectPath(context_object_path(name))); }, who);
            });
    });
}

void ManagerObject::RemoveContext(sdbus::Result<>&& result, std::string name) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::Configure, done,
                   [this, name](const Requester&, auto removed) { manager_.remove_context(name, removed); });
    });
}

void ManagerObject::Reload(sdbus::Result<>&& result) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::Configure, done, [this](const Requester&, auto reloaded) {
            if (!reload_) throw DamondError(ErrorKind::NotSupported, "this damond cannot reload");
            reload_([reloaded](const std::string& error) {
                reloaded(error.empty() ? nullptr
                                       : std::make_exception_ptr(DamondError(ErrorKind::InvalidConfig, error)));
            });
        });
    });
}

void ManagerObject::Release(sdbus::Result<>&& result) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::Configure, done, [this](const Requester&, auto released) {
            if (!release_) throw DamondError(ErrorKind::NotSupported, "this damond cannot release DAMON");
            // Answered first: the owner stops after this turn of its loop.
            released(nullptr);
            release_();
        });
    });
}

void ManagerObject::PauseContext(sdbus::Result<>&& result, std::string name) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::Pause, done,
                   [this, name](const Requester&, auto paused) { manager_.pause_context(name, paused); });
    });
}

void ManagerObject::ResumeContext(sdbus::Result<>&& result, std::string name) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::Pause, done,
                   [this, name](const Requester&, auto resumed) { manager_.resume_context(name, resumed); });
    });
}

void ManagerObject::CommitContext(sdbus::Result<>&& result, std::string name, std::string spec_json) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::Configure, done,
                   [this, name, spec_json](const Requester& who, auto committed) {
                       manager_.commit_context(name, spec_json, committed, who);
                   });
    });
}

namespace {

// An a{sv} option of the expected type: nullopt if absent, InvalidArgs
// naming the key for an unknown key or a wrong type.
struct Options {
    const std::map<std::string, sdbus::Variant>& map;
    std::vector<std::string> known;

    void check() const {
        for (const auto& [key, value] : map)
            if (std::find(known.begin(), known.end(), key) == known.end())
                throw DamondError(ErrorKind::InvalidArgument, "options: unknown key '" + key + "'");
    }
    std::string str(const std::string& key) const {
        auto it = map.find(key);
        if (it == map.end()) return "";
        if (!it->second.containsValueOfType<std::string>())
            throw DamondError(ErrorKind::InvalidArgument, "options." + key + ": must be a string (s)");
        return it->second.get<std::string>();
    }
    uint32_t u32(const std::string& key) const {
        auto it = map.find(key);
        if (it == map.end()) return 0;
        if (!it->second.containsValueOfType<uint32_t>())
            throw DamondError(ErrorKind::InvalidArgument,
                              "options." + key + ": must be an unsigned 32-bit integer (u)");
        return it->second.get<uint32_t>();
    }
};

}  // namespace

void ManagerObject::announce_app_state(const std::string& app_id, const std::string& old_state,
                                       const std::string& new_state) {
    emitAppStateChanged(app_id, old_state, new_state);
    getObject().emitPropertiesChangedSignal(org::damond1::Manager_adaptor::INTERFACE_NAME, {"ForegroundApp"});
}

void ManagerObject::RegisterApp(sdbus::Result<sdbus::ObjectPath>&& result, std::string app_id, uint32_t pid,
                                std::map<std::string, sdbus::Variant> options) {
    reply_when_ready(getObject(), manager_.bus_calls(), std::move(result), [&](auto reply) {
        authorized<sdbus::ObjectPath>(
            auth_, getObject(), BusAction::SetAppState, reply,
            [this, app_id, pid, options](const Requester& who, auto done) {
                const Options o{options, {"foreground_profile", "background_profile"}};
                o.check();
                apps_.register_app(
                    app_id, pid, o.str("foreground_profile"), o.str("background_profile"),
                    [done, app_id](std::exception_ptr e) { done(e, sdbus::ObjectPath(app_object_path(app_id))); }, who);
            });
    });
}

void ManagerObject::UnregisterApp(sdbus::Result<>&& result, std::string app_id) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::SetAppState, done,
                   [this, app_id](const Requester&, auto gone) { apps_.unregister_app(app_id, "unregistered", gone); });
    });
}

void ManagerObject::SetAppState(sdbus::Result<>&& result, std::string app_id, std::string state,
                                std::map<std::string, sdbus::Variant> options) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::SetAppState, done,
                   [this, app_id, state, options](const Requester& who, auto switched) {
                       const Options o{options, {"pid"}};
                       o.check();
                       apps_.set_app_state(
                           app_id, app_state_from_string(state), o.u32("pid"),
                           [switched](std::exception_ptr e, bool) { switched(e); }, who);
                   });
    });
}

std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string>> ManagerObject::ListApps() {
    return counted_call(getObject(), manager_.bus_calls(), [&] {
        std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string>> out;
        for (const AppInfo& a : apps_.list())
            out.emplace_back(a.app_id, sdbus::ObjectPath(app_object_path(a.app_id)), std::string(to_string(a.state)));
        return out;
    });
}

std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string, std::vector<uint32_t>>>
ManagerObject::DescribeApps() {
    return counted_call(getObject(), manager_.bus_calls(), [&] {
        std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string, std::vector<uint32_t>>> out;
        for (const AppInfo& a : apps_.list())
            out.emplace_back(a.app_id, sdbus::ObjectPath(app_object_path(a.app_id)), std::string(to_string(a.state)),
                             a.pids);
        return out;
    });
}

void ManagerObject::HoldPause(sdbus::Result<uint32_t>&& result, std::string who, std::string why) {
    reply_when_ready(getObject(), manager_.bus_calls(), std::move(result), [&](auto reply) {
        authorized<uint32_t>(auth_, getObject(), BusAction::Pause, reply,
                             [this, who, why, owner = current_sender(getObject())](const Requester&, auto done) {
                                 manager_.hold_pause("", who, why, owner, done);
                             });
    });
}

void ManagerObject::ReleasePause(sdbus::Result<>&& result, uint32_t cookie) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done done) {
        authorized(auth_, getObject(), BusAction::Pause, done, [this, cookie](const Requester&, auto released) {
            manager_.release_pause(cookie, nullptr, released);
        });
    });
}

std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string>> ManagerObject::PauseHolds() {
    return translate_errors([&] { return holds_to_bus(manager_.holds()); });
}

void ManagerObject::announce_holds() {
    getObject().emitPropertiesChangedSignal(org::damond1::Manager_adaptor::INTERFACE_NAME, {"PauseHolds"});
}

std::string ManagerObject::ForegroundApp() { return apps_.foreground_app(); }

std::string ManagerObject::Metrics(const std::string& format) {
    return counted_call(getObject(), manager_.bus_calls(), [&] {
        Exposition exposition;
        if (format.empty() || format == "openmetrics")
            exposition = Exposition::OpenMetrics;
        else if (format == "prometheus")
            exposition = Exposition::Prometheus;
        else
            throw DamondError(ErrorKind::InvalidArgument,
                              "format: unknown format '" + format + "' (expected openmetrics or prometheus)");
        const MetricsOptions options = with_system_stat({version_, metrics_max_apps_}, system_stat_);
        return render(gather_metrics(manager_, apps_, options), exposition);
    });
}

std::string ManagerObject::Version() { return version_; }

std::string ManagerObject::Backend() { return to_string(manager_.backend()); }

std::string ManagerObject::BackendReason() { return manager_.backend_reason(); }

std::vector<std::string> ManagerObject::KernelFeatures() {
    return translate_errors([&] { return manager_.backend_facts().features; });
}

std::string ManagerObject::PauseMode() {
    return translate_errors([&] { return manager_.backend_facts().pause_mode; });
}

std::string ManagerObject::PauseModeReason() {
    return translate_errors([&] { return manager_.backend_facts().pause_mode_reason; });
}

std::vector<sdbus::Struct<uint32_t, bool, std::string, uint32_t, std::string>> ManagerObject::Kdamonds() {
    return translate_errors([&] {
        std::vector<sdbus::Struct<uint32_t, bool, std::string, uint32_t, std::string>> out;
        // A pid of -1 (not running) reads as 0 in the unsigned field.
        for (const KdamondFact& k : manager_.backend_facts().kdamonds)
            out.emplace_back(k.index, k.ours, k.state, static_cast<uint32_t>(k.pid < 0 ? 0 : k.pid), k.ops);
        return out;
    });
}

std::map<std::string, sdbus::Variant> ManagerObject::SystemStat() {
    if (!system_stat_ || system_stat_->refreshed_us() == 0) return {};
    const StatFigures& f = system_stat_->figures();
    return {{"context", sdbus::Variant(system_stat_->context())},
            {"idle_ms_percentiles",
             sdbus::Variant(std::vector<int64_t>(f.idle_ms_percentiles.begin(), f.idle_ms_percentiles.end()))},
            {"estimated_memory_bandwidth", sdbus::Variant(f.estimated_memory_bandwidth)},
            {"aggr_interval_us", sdbus::Variant(f.aggr_interval_us)},
            {"refreshed_usec", sdbus::Variant(system_stat_->refreshed_us())},
            {"cgroups_method", sdbus::Variant(system_stat_->cgroups_method())},
            {"cgroups_unavailable", sdbus::Variant(system_stat_->cgroups_unavailable())},
            {"cgroups_warm_ms", sdbus::Variant(system_stat_->cgroups_config().warm_ms)},
            {"cgroups_cold_ms", sdbus::Variant(system_stat_->cgroups_config().cold_ms)},
            {"cgroups_left_out", sdbus::Variant(uint64_t{system_stat_->cgroups_left_out()})}};
}

std::vector<sdbus::Struct<std::string, uint64_t, uint64_t, uint64_t>> ManagerObject::SystemCgroups() {
    std::vector<sdbus::Struct<std::string, uint64_t, uint64_t, uint64_t>> out;
    if (!system_stat_ || system_stat_->refreshed_us() == 0) return out;
    for (const CgroupFigure& c : system_stat_->cgroups())
        out.emplace_back(c.path, c.bytes.hot, c.bytes.warm, c.bytes.cold);
    return out;
}

}  // namespace damond
