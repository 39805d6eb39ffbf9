// org.damond1.Manager at /org/damond1: thin glue to the Manager.
#pragma once

#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "caller_authorizer.hpp"
#include "manager/app_registry.hpp"
#include "manager/manager.hpp"
#include "manager/system_stat.hpp"
#include "manager_adaptor.h"

namespace damond {

// Also org.freedesktop.DBus.ObjectManager at /org/damond1: GetManagedObjects
// returns every context and app with their properties in one call, and
// InterfacesAdded/InterfacesRemoved follow them (what GDBus, udisks or
// NetworkManager clients expect). ContextAdded/ContextRemoved stay for
// existing callers.
class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::damond1::Manager_adaptor, sdbus::ObjectManager_adaptor> {
public:
    // Re-reads the config; `done` gets "" or why the new one was rejected.
    using ReloadFn = std::function<void(std::function<void(std::string)> done)>;
    ManagerObject(sdbus::IConnection& connection, Manager& manager, AppRegistry& apps, CallerAuthorizer& auth,
                  std::string version, ReloadFn reload, std::function<void()> release = {});
    ~ManagerObject();

    void announce_added(const std::string& name);
    void announce_removed(const std::string& name);
    void announce_app_state(const std::string& app_id, const std::string& old_state, const std::string& new_state);
    void announce_holds();
    // Apps with series of their own in Metrics (metrics.max_apps).
    void set_metrics_max_apps(uint32_t max_apps) { metrics_max_apps_ = max_apps; }
    // DAMON_STAT's figures, when damond serves them (nullptr: it does not).
    void set_system_stat(const damond::SystemStat* stat) { system_stat_ = stat; }

private:
    std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string>> ListContexts() override;
    std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string, uint64_t, std::string, std::string,
                              std::string, std::string, uint64_t, uint64_t, uint64_t, std::string>>
    DescribeContexts() override;
    void CreateContext(sdbus::Result<sdbus::ObjectPath>&& result, std::string name, std::string spec_json) override;
    void RemoveContext(sdbus::Result<>&& result, std::string name) override;
    void Reload(sdbus::Result<>&& result) override;
    void Release(sdbus::Result<>&& result) override;
    void PauseContext(sdbus::Result<>&& result, std::string name) override;
    void ResumeContext(sdbus::Result<>&& result, std::string name) override;
    void CommitContext(sdbus::Result<>&& result, std::string name, std::string spec_json) override;
    void RegisterApp(sdbus::Result<sdbus::ObjectPath>&& result, std::string app_id, uint32_t pid,
                     std::map<std::string, sdbus::Variant> options) override;
    void UnregisterApp(sdbus::Result<>&& result, std::string app_id) override;
    void SetAppState(sdbus::Result<>&& result, std::string app_id, std::string state,
                     std::map<std::string, sdbus::Variant> options) override;
    std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string>> ListApps() override;
    std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string, std::vector<uint32_t>>> DescribeApps()
        override;
    std::string Metrics(const std::string& format) override;
    void HoldPause(sdbus::Result<uint32_t>&& result, std::string who, std::string why) override;
    void ReleasePause(sdbus::Result<>&& result, uint32_t cookie) override;
    std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string>> PauseHolds() override;
    std::string ForegroundApp() override;
    std::string Version() override;
    std::string Backend() override;
    std::string BackendReason() override;
    std::vector<std::string> KernelFeatures() override;
    std::string PauseMode() override;
    std::string PauseModeReason() override;
    std::vector<sdbus::Struct<uint32_t, bool, std::string, uint32_t, std::string>> Kdamonds() override;
    std::map<std::string, sdbus::Variant> SystemStat() override;
    std::vector<sdbus::Struct<std::string, uint64_t, uint64_t, uint64_t>> SystemCgroups() override;

    Manager& manager_;
    AppRegistry& apps_;
    CallerAuthorizer& auth_;
    std::string version_;
    ReloadFn reload_;
    std::function<void()> release_;
    uint32_t metrics_max_apps_ = 32;
    const damond::SystemStat* system_stat_ = nullptr;
};

}  // namespace damond
