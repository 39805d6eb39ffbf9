#include "app_object.hpp"

#include "bus_errors.hpp"
#include "bus_label.hpp"
#include "managed_object.hpp"

namespace damond {

AppObject::AppObject(sdbus::IConnection& connection, AppRegistry& apps, std::string app_id)
    : AdaptorInterfaces(connection, app_object_path(app_id)), apps_(apps), app_id_(std::move(app_id)) {
    registerAdaptor();
    announce_object(*this, "org.damond1.App", true);
}

AppObject::~AppObject() {
    announce_object(*this, "org.damond1.App", false);
    unregisterAdaptor();
}

void AppObject::emit_pids_changed() {
    getObject().emitPropertiesChangedSignal(org::damond1::App_adaptor::INTERFACE_NAME, {"Pids"});
}

void AppObject::emit_reclaim_changed() {
    getObject().emitPropertiesChangedSignal(
        org::damond1::App_adaptor::INTERFACE_NAME,
        {"ReclaimedBytes", "ReclaimedBytesTotal", "LastReclaimUsec", "LastReclaimOutcome", "RefaultBytes"});
}

void AppObject::emit_switched() {
    getObject().emitPropertiesChangedSignal(org::damond1::App_adaptor::INTERFACE_NAME, {"State", "LastSwitchUsec"});
}

std::string AppObject::AppId() { return app_id_; }

std::string AppObject::State() {
    return translate_errors([&] { return std::string(to_string(apps_.app(app_id_).state)); });
}

std::vector<uint32_t> AppObject::Pids() {
    return translate_errors([&] { return apps_.app(app_id_).pids; });
}

sdbus::ObjectPath AppObject::ForegroundContext() {
    return translate_errors(
        [&] { return sdbus::ObjectPath(context_object_path(apps_.app(app_id_).foreground_context)); });
}

sdbus::ObjectPath AppObject::BackgroundContext() {
    return translate_errors(
        [&] { return sdbus::ObjectPath(context_object_path(apps_.app(app_id_).background_context)); });
}

uint64_t AppObject::LastSwitchUsec() {
    return translate_errors([&] { return apps_.app(app_id_).last_switch_us; });
}

AppReclaimer::Figures AppObject::reclaim_figures() {
    return translate_errors([&] {
        apps_.app(app_id_);  // NoSuchApp when gone
        const AppReclaimer::Figures* f = apps_.reclaim_figures(app_id_);
        return f ? *f : AppReclaimer::Figures{};
    });
}

bool AppObject::ReclaimEnabled() {
    return translate_errors([&] {
        apps_.app(app_id_);
        return apps_.reclaims(app_id_);
    });
}
uint64_t AppObject::ReclaimedBytes() { return reclaim_figures().last_bytes; }
uint64_t AppObject::ReclaimedBytesTotal() { return reclaim_figures().total_bytes; }
uint64_t AppObject::LastReclaimUsec() { return reclaim_figures().last_at_us; }
std::string AppObject::LastReclaimOutcome() { return reclaim_figures().last_outcome; }
uint64_t AppObject::RefaultBytes() { return reclaim_figures().refault_bytes; }

}  // namespace damond
