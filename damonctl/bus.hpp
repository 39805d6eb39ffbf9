// damond on the system bus, through proxies generated from dbus/*.xml on
// one connection. Every bus error becomes a Failure with the exit code
// scripts can use and damond's own message.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "app_proxy.h"
#include "context_proxy.h"
#include "manager_proxy.h"

namespace damonctl {

using Properties = std::map<std::string, sdbus::Variant>;
using HoldsList = std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string>>;
using KdamondsList = std::vector<sdbus::Struct<uint32_t, bool, std::string, uint32_t, std::string>>;
using CgroupsList = std::vector<sdbus::Struct<std::string, uint64_t, uint64_t, uint64_t>>;

// Properties read straight from a reply, without an sdbus::Variant (and
// its message copy) for each.
using PropValue = std::variant<std::monostate, std::string, uint64_t, uint32_t, bool, std::vector<std::string>,
                               std::vector<uint32_t>, std::vector<int64_t>, HoldsList, KdamondsList, CgroupsList>;
using PropMap = std::map<std::string, PropValue>;
// GetAll(interface) on `path`.
PropMap get_all(sdbus::IConnection& c, const std::string& path, const std::string& interface);

class ManagerProxy final
    : public sdbus::ProxyInterfaces<org::damond1::Manager_proxy, sdbus::Properties_proxy, sdbus::ObjectManager_proxy> {
public:
    // Signals are subscribed to (one AddMatch each) only when asked for.
    ManagerProxy(sdbus::IConnection& c, bool signals);
    ~ManagerProxy() { unregisterProxy(); }
    // Signal handlers for `watch`; unset ones ignore the signal.
    std::function<void(const std::string&, const std::string&, const std::string&)> on_app_state;
    std::function<void(const std::string&, bool added)> on_context;
    std::function<void(const sdbus::ObjectPath&, const std::map<std::string, Properties>&)> on_interfaces_added;
    std::function<void(const std::string&, const Properties&)> on_properties;

private:
    void onAppStateChanged(const std::string& app_id, const std::string& old, const std::string& now) override;
    void onContextAdded(const std::string& name, const sdbus::ObjectPath&) override;
    void onContextRemoved(const std::string& name, const sdbus::ObjectPath&) override;
    void onPropertiesChanged(const std::string& iface, const Properties& changed,
                             const std::vector<std::string>&) override;
    void onInterfacesAdded(const sdbus::ObjectPath& path, const std::map<std::string, Properties>& ifaces) override;
    void onInterfacesRemoved(const sdbus::ObjectPath&, const std::vector<std::string>&) override {}
};

class ContextProxy final : public sdbus::ProxyInterfaces<org::damond1::Context_proxy, sdbus::Properties_proxy> {
public:
    ContextProxy(sdbus::IConnection& c, const std::string& name);
    ~ContextProxy() { unregisterProxy(); }

private:
    void onPropertiesChanged(const std::string&, const Properties&, const std::vector<std::string>&) override {}
};

class AppProxy final : public sdbus::ProxyInterfaces<org::damond1::App_proxy, sdbus::Properties_proxy> {
public:
    AppProxy(sdbus::IConnection& c, const std::string& app_id);
    ~AppProxy() { unregisterProxy(); }

private:
    void onPropertiesChanged(const std::string&, const Properties&, const std::vector<std::string>&) override {}
};

class Damond {
public:
    // Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS if set);
    // `signals` for the manager's.
    explicit Damond(bool signals = false);
    sdbus::IConnection& connection() { return *connection_; }
    ManagerProxy& manager() { return *manager_; }
    std::unique_ptr<ContextProxy> context(const std::string& name) {
        return std::make_unique<ContextProxy>(*connection_, name);
    }
    std::unique_ptr<AppProxy> app(const std::string& app_id) {
        return std::make_unique<AppProxy>(*connection_, app_id);
    }

private:
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<ManagerProxy> manager_;
};

// Runs `fn`; a bus error becomes a Failure carrying its exit code and
// damond's message (the error's name when the message is empty).
template <typename Fn>
auto call(Fn&& fn) -> decltype(fn());

int exit_code_of(const std::string& error_name);
[[noreturn]] void fail_from(const sdbus::Error& e);

template <typename Fn>
auto call(Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const sdbus::Error& e) {
        fail_from(e);
    }
}

// A property's value from a GetAll or GetManagedObjects map, `fallback`
// when absent (an older damond).
template <typename T>
T prop(const Properties& p, const std::string& name, T fallback = T{}) {
    auto it = p.find(name);
    if (it == p.end() || !it->second.containsValueOfType<T>()) return fallback;
    return it->second.get<T>();
}
template <typename T>
T prop(const PropMap& p, const std::string& name, T fallback = T{}) {
    auto it = p.find(name);
    if (it == p.end()) return fallback;
    const T* v = std::get_if<T>(&it->second);
    return v ? *v : fallback;
}

}  // namespace damonctl
