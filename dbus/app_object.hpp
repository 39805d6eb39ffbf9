// org.damond1.App: thin glue from the generated adaptor to the AppRegistry.
#pragma once

#include <string>

#include <sdbus-c++/sdbus-c++.h>

#include "app_adaptor.h"
#include "manager/app_registry.hpp"

namespace damond {

// A managed object: its InterfacesAdded/Removed are sent as it comes and goes.
class AppObject final : public sdbus::AdaptorInterfaces<org::damond1::App_adaptor, sdbus::ManagedObject_adaptor> {
public:
    AppObject(sdbus::IConnection& connection, AppRegistry& apps, std::string app_id);
    ~AppObject();

    void emit_switched();
    void emit_pids_changed();
    void emit_reclaim_changed();

private:
    std::string AppId() override;
    std::string State() override;
    std::vector<uint32_t> Pids() override;
    sdbus::ObjectPath ForegroundContext() override;
    sdbus::ObjectPath BackgroundContext() override;
    uint64_t LastSwitchUsec() override;
    bool ReclaimEnabled() override;
    uint64_t ReclaimedBytes() override;
    uint64_t ReclaimedBytesTotal() override;
    uint64_t LastReclaimUsec() override;
    std::string LastReclaimOutcome() override;
    uint64_t RefaultBytes() override;
    // Its figures, zeros before its first reclaim (throws NoSuchApp when gone).
    AppReclaimer::Figures reclaim_figures();

    AppRegistry& apps_;
    std::string app_id_;
};

}  // namespace damond
