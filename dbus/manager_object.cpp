#include "manager_object.hpp"

#include "bus_errors.hpp"
#include "bus_label.hpp"

namespace damond {

ManagerObject::ManagerObject(sdbus::IConnection& connection, Manager& manager, std::string version)
    : AdaptorInterfaces(connection, kManagerPath), manager_(manager), version_(std::move(version)) {
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
    return translate_errors([&] {
        std::vector<sdbus::Struct<std::string, sdbus::ObjectPath, std::string>> out;
        for (const ContextInfo& c : manager_.list_contexts())
            out.emplace_back(c.name, sdbus::ObjectPath(context_object_path(c.name)), std::string(to_string(c.state)));
        return out;
    });
}

sdbus::ObjectPath ManagerObject::CreateContext(const std::string& name, const std::string& spec_json) {
    return translate_errors([&] {
        manager_.create_context(name, spec_json);
        return sdbus::ObjectPath(context_object_path(name));
    });
}

void ManagerObject::RemoveContext(const std::string& name) {
    translate_errors([&] { manager_.remove_context(name); });
}

void ManagerObject::PauseContext(sdbus::Result<>&& result, std::string name) {
    reply_when_done(std::move(result), [&](Manager::Done done) { manager_.pause_context_async(name, std::move(done)); });
}

void ManagerObject::ResumeContext(sdbus::Result<>&& result, std::string name) {
    reply_when_done(std::move(result), [&](Manager::Done done) { manager_.resume_context_async(name, std::move(done)); });
}

void ManagerObject::CommitContext(sdbus::Result<>&& result, std::string name, std::string spec_json) {
    reply_when_done(std::move(result),
                    [&](Manager::Done done) { manager_.commit_context_async(name, spec_json, std::move(done)); });
}

std::string ManagerObject::Version() { return version_; }

std::string ManagerObject::Backend() { return manager_.backend(); }

std::string ManagerObject::BackendReason() { return manager_.backend_reason(); }

std::vector<std::string> ManagerObject::KernelFeatures() {
    return translate_errors([&] {
        const KernelProbe p = manager_.kernel_probe();
        return std::vector<std::string>(p.features.begin(), p.features.end());
    });
}

std::string ManagerObject::PauseMode() {
    return translate_errors([&] { return std::string(to_string(manager_.kernel_probe().pause_mode)); });
}

std::string ManagerObject::PauseModeReason() {
    return translate_errors([&] { return manager_.kernel_probe().pause_mode_reason; });
}

std::vector<sdbus::Struct<uint32_t, bool, std::string, uint32_t, std::string>> ManagerObject::Kdamonds() {
    return translate_errors([&] {
        std::vector<sdbus::Struct<uint32_t, bool, std::string, uint32_t, std::string>> out;
        // A pid of -1 (not running) reads as 0 in the unsigned field.
        for (const KdamondInfo& k : manager_.kernel_probe().kdamonds)
            out.emplace_back(k.index, k.ours, k.state, static_cast<uint32_t>(k.pid < 0 ? 0 : k.pid), k.ops);
        return out;
    });
}

}  // namespace damond
