// What the tests that drive the damond binary over a private bus share:
// proxies generated from dbus/*.xml that record the signals they get, and
// small waiting helpers.
#pragma once

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "app_proxy.h"
#include "context_proxy.h"
#include "manager_proxy.h"
#include "private_bus.hpp"

namespace damond::testing {

// Records signals on the proxy's own event-loop thread.
class Events {
public:
    void add(std::string e) {
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(std::move(e));
    }
    bool contains(const std::string& e) const {
        std::lock_guard<std::mutex> lock(mu_);
        for (const std::string& x : events_)
            if (x == e) return true;
        return false;
    }
    bool wait_for(const std::string& e, int timeout_ms = 5000) const {
        return wait_until([&] { return contains(e); }, timeout_ms);
    }

private:
    mutable std::mutex mu_;
    std::vector<std::string> events_;
};

class ManagerProxy final : public sdbus::ProxyInterfaces<org::damond1::Manager_proxy> {
public:
    ManagerProxy() : ProxyInterfaces("org.damond1", "/org/damond1") { registerProxy(); }
    ~ManagerProxy() { unregisterProxy(); }
    Events events;

private:
    void onContextAdded(const std::string& name, const sdbus::ObjectPath& path) override {
        events.add("added " + name + " " + std::string(path));
    }
    void onContextRemoved(const std::string& name, const sdbus::ObjectPath& path) override {
        events.add("removed " + name + " " + std::string(path));
    }
    void onAppStateChanged(const std::string& app_id, const std::string& old_state,
                           const std::string& new_state) override {
        events.add("app " + app_id + " " + old_state + "->" + new_state);
        std::lock_guard<std::mutex> lock(mu);
        ++app_changes;
    }

public:
    std::mutex mu;
    int app_changes = 0;
};

// org.freedesktop.DBus.ObjectManager at /org/damond1, recording
// "added <path> <interface>" and "removed <path> <interface>".
class ObjectManagerProxy final : public sdbus::ProxyInterfaces<sdbus::ObjectManager_proxy> {
public:
    ObjectManagerProxy() : ProxyInterfaces("org.damond1", "/org/damond1") { registerProxy(); }
    ~ObjectManagerProxy() { unregisterProxy(); }
    Events events;

private:
    void onInterfacesAdded(const sdbus::ObjectPath& path,
                           const std::map<std::string, std::map<std::string, sdbus::Variant>>& interfaces) override {
        for (const auto& [iface, props] : interfaces) events.add("added " + std::string(path) + " " + iface);
    }
    void onInterfacesRemoved(const sdbus::ObjectPath& path, const std::vector<std::string>& interfaces) override {
        for (const auto& iface : interfaces) events.add("removed " + std::string(path) + " " + iface);
    }
};

class ContextProxy final : public sdbus::ProxyInterfaces<org::damond1::Context_proxy, sdbus::Properties_proxy> {
public:
    explicit ContextProxy(const std::string& path) : ProxyInterfaces("org.damond1", path) { registerProxy(); }
    ~ContextProxy() { unregisterProxy(); }
    Events events;

private:
    void onPropertiesChanged(const std::string& iface, const std::map<std::string, sdbus::Variant>& changed,
                             const std::vector<std::string>&) override {
        for (const auto& [name, value] : changed) {
            std::string v = value.containsValueOfType<std::string>() ? value.get<std::string>() : "?";
            if (name == "Spec") v = "<spec>";
            events.add(iface + " " + name + "=" + v);
        }
    }
};

inline std::string error_name_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const sdbus::Error& e) {
        return e.getName() + ": " + e.getMessage();
    }
    return "no error";
}

// Size-weighted mean age over [lo, hi). Merges average ages by size and splits
// copy them, so this grows by one per aggregation where access stays steady,

class AppProxy final : public sdbus::ProxyInterfaces<org::damond1::App_proxy> {
public:
    explicit AppProxy(const std::string& path) : ProxyInterfaces("org.damond1", path) { registerProxy(); }
    ~AppProxy() { unregisterProxy(); }
};

// The state ListApps gives for the app, "" when it is not registered.
inline std::string app_state_of(ManagerProxy& m, const std::string& app_id) {
    for (const auto& a : m.ListApps())
        if (a.get<0>() == app_id) return a.get<2>();
    return "";
}

}  // namespace damond::testing
