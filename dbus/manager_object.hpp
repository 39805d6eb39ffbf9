// org.damond1.Manager at /org/damond1: thin glue to the Manager.
#pragma once

#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "manager/manager.hpp"
#include "manager_adaptor.h"

namespace damond {

class ManagerObject final : public sdbus::AdaptorInterfaces<org::damond1::Manager_adaptor> {
public:
    ManagerObject(sdbus::IConnection& connection, Manager& manager, std::string version);
    ~ManagerObject();

    void announce_added(const std::string& name);
    void announce_removed(const std::string& name);

private:
    std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string>> ListContexts() override;
    sdbus::ObjectPath CreateContext(const std::string& name, const std::string& spec_json) override;
    void RemoveContext(const std::string& name) override;
    void PauseContext(sdbus::Result<>&& result, std::string name) override;
    void ResumeContext(sdbus::Result<>&& result, std::string name) override;
    void CommitContext(sdbus::Result<>&& result, std::string name, std::string spec_json) override;
    std::string Version() override;
    std::string Backend() override;
    std::string BackendReason() override;
    std::vector<std::string> KernelFeatures() override;
    std::string PauseMode() override;
    std::string PauseModeReason() override;
    std::vector<sdbus::Struct<uint32_t, bool, std::string, uint32_t, std::string>> Kdamonds() override;

    Manager& manager_;
    std::string version_;
};

}  // namespace damond
