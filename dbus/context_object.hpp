// org.damond1.Context: thin glue from the generated adaptor to the Manager.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "caller_authorizer.hpp"
#include "context_adaptor.h"
#include "manager/manager.hpp"

namespace damond {

// A managed object: its InterfacesAdded/Removed are sent as it comes and goes.
class ContextObject final
    : public sdbus::AdaptorInterfaces<org::damond1::Context_adaptor, sdbus::ManagedObject_adaptor> {
public:
    ContextObject(sdbus::IConnection& connection, Manager& manager, CallerAuthorizer& auth, std::string name);
    ~ContextObject();

    void emit_changed(const std::vector<ContextField>& fields);

private:
    void Pause(sdbus::Result<>&& result) override;
    void Resume(sdbus::Result<>&& result) override;
    void Commit(sdbus::Result<>&& result, std::string spec_json) override;
    void HoldPause(sdbus::Result<uint32_t>&& result, std::string who, std::string why) override;
    void ReleasePause(sdbus::Result<>&& result, uint32_t cookie) override;
    std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string>> PauseHolds() override;
    void Snapshot(sdbus::Result<std::string>&& result) override;
    void ReadSpec(sdbus::Result<std::string>&& result) override;
    std::string Name() override;
    std::string State() override;
    std::string Spec() override;
    std::string Backend() override;
    std::string BackendReason() override;
    std::string AccessSource() override;
    std::string AccessSourceReason() override;
    uint64_t StateSinceUsec() override;
    uint64_t NrRegions() override;
    uint64_t NrAggregations() override;
    uint64_t NrSamples() override;
    std::map<std::string, sdbus::Variant> Stats() override;
    std::tuple<uint64_t, std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t, bool>>> History() override;
    std::string LastError() override;

    Manager& manager_;
    CallerAuthorizer& auth_;
    std::string name_;
};

}  // namespace damond
