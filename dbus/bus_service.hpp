// damond on the bus: the connection, the Manager object and one object per
// context, kept in step with the Manager. No sdbus-c++ type leaks out of
// this header, so the rest of the daemon does not depend on the binding.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "manager/app_registry.hpp"
#include "manager/manager.hpp"
#include "manager/system_stat.hpp"

namespace damond {

enum class BusKind { System, Session };

class BusService {
public:
    // Connects (the system bus honours DBUS_SYSTEM_BUS_ADDRESS) and exports
    // the Manager object; the name is requested separately, once every
    // object a client may ask for is exported.
    // `reload` re-reads the config for the Reload method, and calls its
    // argument with "" or why the new config was rejected once applied.
    // `release` asks the owner to hand DAMON back and exit (Release).
    BusService(Manager& manager, AppRegistry& apps, BusKind kind, std::string version, AuthorizationConfig auth = {},
               std::function<void(std::function<void(std::string)>)> reload = {}, std::function<void()> release = {});
    // Who may change things, after a reload.
    void set_authorization(AuthorizationConfig auth);
    // Apps with series of their own in Metrics (metrics.max_apps).
    void set_metrics_max_apps(uint32_t max_apps);
    // DAMON_STAT's figures for the Manager's SystemStat (nullptr: none).
    void set_system_stat(const SystemStat* stat);
    ~BusService();

    // What the bus makes of the manager's and the apps' changes (objects
    // added and removed, properties and signals): the daemon's listeners
    // hand them on.
    ManagerListener& manager_listener();
    AppListener& app_listener();

    void request_name();
    // Asks the bus driver whether a (unique) name is still connected.
    bool name_has_owner(const std::string& name);

    // For the owner's poll loop.
    int fd() const;
    short events() const;
    // Absolute CLOCK_MONOTONIC microseconds, UINT64_MAX for none.
    uint64_t timeout_us() const;
    // Dispatches everything pending; handlers run on the calling thread.
    // The signals a call causes are sent right after its reply.
    void process();
    // Sends the signals still waiting (process() does it first thing).
    void flush_signals();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace damond
