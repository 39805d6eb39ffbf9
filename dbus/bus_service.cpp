#include "bus_service.hpp"

#include <map>

#include <sdbus-c++/sdbus-c++.h>

#include "bus_label.hpp"
#include "context_object.hpp"
#include "manager_object.hpp"

namespace damond {

struct BusService::Impl : ManagerListener {
    Impl(Manager& m, BusKind kind, std::string version)
        : manager(m),
          connection(kind == BusKind::System ? sdbus::createSystemBusConnection() : sdbus::createSessionBusConnection()),
          manager_object(std::make_unique<ManagerObject>(*connection, m, std::move(version))) {
        for (const ContextInfo& c : manager.list_contexts()) export_context(c.name);
        manager.set_listener(this);
    }

    ~Impl() override { manager.set_listener(nullptr); }

    void export_context(const std::string& name) {
        contexts[name] = std::make_unique<ContextObject>(*connection, manager, name);
    }

    void context_added(const std::string& name) override {
        export_context(name);
        manager_object->announce_added(name);
    }

    void context_removed(const std::string& name) override {
        contexts.erase(name);
        manager_object->announce_removed(name);
    }

    void context_changed(const std::string& name, const std::vector<ContextField>& fields) override {
        auto it = contexts.find(name);
        if (it != contexts.end()) it->second->emit_changed(fields);
    }

    Manager& manager;
    std::unique_ptr<sdbus::IConnection> connection;
    std::unique_ptr<ManagerObject> manager_object;
    std::map<std::string, std::unique_ptr<ContextObject>> contexts;
};

BusService::BusService(Manager& manager, BusKind kind, std::string version)
    : impl_(std::make_unique<Impl>(manager, kind, std::move(version))) {}

BusService::~BusService() = default;

void BusService::request_name() { impl_->connection->requestName(kBusName); }

int BusService::fd() const { return impl_->connection->getEventLoopPollData().fd; }

short BusService::events() const { return impl_->connection->getEventLoopPollData().events; }

uint64_t BusService::timeout_us() const { return impl_->connection->getEventLoopPollData().timeout_usec; }

void BusService::process() {
    while (impl_->connection->processPendingRequest()) {
    }
}

}  // namespace damond
