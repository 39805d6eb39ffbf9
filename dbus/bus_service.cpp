#include "bus_service.hpp"

#include <map>

#include <sdbus-c++/sdbus-c++.h>

#include "app_object.hpp"
#include "base/after_call.hpp"
#include "bus_label.hpp"
#include "context_object.hpp"
#include "deferred_signals.hpp"
#include "manager_object.hpp"

namespace damond {

struct BusService::Impl : ManagerListener, AppListener {
    Impl(Manager& m, AppRegistry& a, BusKind kind, std::string version, AuthorizationConfig auth_config,
         std::function<void(std::function<void(std::string)>)> reload, std::function<void()> release)
        : manager(m),
          apps(a),
          connection(kind == BusKind::System ? sdbus::createSystemBusConnection()
                                             : sdbus::createSessionBusConnection()),
          auth(*connection, std::move(auth_config)),
          manager_object(std::make_unique<ManagerObject>(*connection, m, a, auth, std::move(version), std::move(reload),
                                                         std::move(release))) {
        for (const ContextInfo& c : manager.list_contexts()) export_context(c.name);
        for (const AppInfo& app : apps.list()) app_added(app.app_id);
        // A holder that leaves the bus drops its pause holds. One match for
        // every name, installed before any hold exists: the bus then delivers
        // a holder's disconnect after its HoldPause call, never before.
        name_owner_match = connection->addMatch(
            "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
            "interface='org.freedesktop.DBus',member='NameOwnerChanged'",
            [this](sdbus::Message& msg) {
                std::string name, old_owner, new_owner;
                msg >> name >> old_owner >> new_owner;
                if (name.empty() || name[0] != ':' || !new_owner.empty()) return;
                manager.release_holds_of(name);
                auth.forget(name);
            });
    }

    void holds_changed() override {
        signals.push([this] { manager_object->announce_holds(); });
    }

    // Objects come and go at once (the reply may name them), after the
    // signals still waiting, so that every signal keeps its place.
    void app_added(const std::string& app_id) override {
        signals.flush();
        app_objects[app_id] = std::make_unique<AppObject>(*connection, apps, app_id);
    }

    void app_removed(const std::string& app_id) override {
        signals.flush();
        app_objects.erase(app_id);
    }

    void app_pids_changed(const std::string& app_id) override {
        signals.push([this, app_id] {
            auto it = app_objects.find(app_id);
            if (it != app_objects.end()) it->second->emit_pids_changed();
        });
    }

    void app_reclaim_changed(const std::string& app_id) override {
        signals.push([this, app_id] {
            auto it = app_objects.find(app_id);
            if (it != app_objects.end()) it->second->emit_reclaim_changed();
        });
    }

    void app_state_changed(const std::string& app_id, AppState old_state, AppTransition now) override {
        signals.push([this, app_id, old_state, now] {
            auto it = app_objects.find(app_id);
            if (it != app_objects.end() && now != AppTransition::Gone) it->second->emit_switched();
            manager_object->announce_app_state(app_id, to_string(old_state), to_string(now));
        });
    }

    void export_context(const std::string& name) {
        contexts[name] = std::make_unique<ContextObject>(*connection, manager, auth, name);
    }

    void context_added(const std::string& name) override {
        signals.flush();
        export_context(name);
        manager_object->announce_added(name);
    }

    void context_removed(const std::string& name) override {
        signals.flush();
        contexts.erase(name);
        manager_object->announce_removed(name);
    }

    void context_changed(const std::string& name, const std::vector<ContextField>& fields) override {
        signals.push([this, name, fields] {
            auto it = contexts.find(name);
            if (it != contexts.end()) it->second->emit_changed(fields);
        });
    }

    Manager& manager;
    AppRegistry& apps;
    std::unique_ptr<sdbus::IConnection> connection;
    CallerAuthorizer auth;
    std::unique_ptr<ManagerObject> manager_object;
    std::map<std::string, std::unique_ptr<ContextObject>> contexts;
    std::map<std::string, std::unique_ptr<AppObject>> app_objects;
    sdbus::Slot name_owner_match;
    DeferredSignals signals;
};

BusService::BusService(Manager& manager, AppRegistry& apps, BusKind kind, std::string version, AuthorizationConfig auth,
                       std::function<void(std::function<void(std::string)>)> reload, std::function<void()> release)
    : impl_(std::make_unique<Impl>(manager, apps, kind, std::move(version), std::move(auth), std::move(reload),
                                   std::move(release))) {}

ManagerListener& BusService::manager_listener() { return *impl_; }
AppListener& BusService::app_listener() { return *impl_; }

void BusService::set_authorization(AuthorizationConfig auth) { impl_->auth.set_config(std::move(auth)); }

void BusService::set_metrics_max_apps(uint32_t max_apps) { impl_->manager_object->set_metrics_max_apps(max_apps); }

void BusService::set_system_stat(const SystemStat* stat) { impl_->manager_object->set_system_stat(stat); }

BusService::~BusService() = default;

void BusService::request_name() { impl_->connection->requestName(kBusName); }

bool BusService::name_has_owner(const std::string& name) {
    auto driver = sdbus::createProxy(*impl_->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    bool has = false;
    driver->callMethod("NameHasOwner").onInterface("org.freedesktop.DBus").withArguments(name).storeResultsTo(has);
    return has;
}

int BusService::fd() const { return impl_->connection->getEventLoopPollData().fd; }

short BusService::events() const { return impl_->connection->getEventLoopPollData().events; }

uint64_t BusService::timeout_us() const { return impl_->connection->getEventLoopPollData().timeout_usec; }

void BusService::process() {
    impl_->signals.flush();  // what the loop's tasks, timers and sources changed
    for (;;) {
        AfterCall after;  // its journal entries and wake-ups, after the reply and the signals
        if (!impl_->connection->processPendingRequest()) break;
        impl_->signals.flush();
    }
}

void BusService::flush_signals() { impl_->signals.flush(); }

}  // namespace damond
