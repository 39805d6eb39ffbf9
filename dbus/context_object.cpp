#include "context_object.hpp"

#include "authorized_call.hpp"
#include "bus_errors.hpp"
#include "bus_label.hpp"
#include "managed_object.hpp"

namespace damond {

ContextObject::ContextObject(sdbus::IConnection& connection, Manager& manager, CallerAuthorizer& auth, std::string name)
    : AdaptorInterfaces(connection, context_object_path(name)), manager_(manager), auth_(auth), name_(std::move(name)) {
    registerAdaptor();
    announce_object(*this, "org.damond1.Context", true);
}

ContextObject::~ContextObject() {
    announce_object(*this, "org.damond1.Context", false);
    unregisterAdaptor();
}

void ContextObject::emit_changed(const std::vector<ContextField>& fields) {
    std::vector<std::string> names;
    for (ContextField f : fields) {
        switch (f) {
        case ContextField::State:
            names.push_back("State");
            names.push_back("StateSinceUsec");
            break;
        case ContextField::Spec: names.push_back("Spec"); break;
        case ContextField::LastError: names.push_back("LastError"); break;
        case ContextField::Holds: names.push_back("PauseHolds"); break;
        case ContextField::Stats: names.push_back("Stats"); break;
        }
    }
    getObject().emitPropertiesChangedSignal(org::damond1::Context_adaptor::INTERFACE_NAME, names);
}

// Each operation captures the manager and the name, never this object: it
// may run after polkit answers, when the context may be gone.
void ContextObject::Pause(sdbus::Result<>&& result) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done reply) {
        authorized(auth_, getObject(), BusAction::Pause, reply,
                   [&m = manager_, name = name_](const Requester&, auto done) { m.pause_context(name, done); });
    });
}

void ContextObject::Resume(sdbus::Result<>&& result) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done reply) {
        authorized(auth_, getObject(), BusAction::Pause, reply,
                   [&m = manager_, name = name_](const Requester&, auto done) { m.resume_context(name, done); });
    });
}

void ContextObject::Commit(sdbus::Result<>&& result, std::string spec_json) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done reply) {
        authorized(auth_, getObject(), BusAction::Configure, reply,
                   [&m = manager_, name = name_, spec_json](const Requester& who, auto done) {
                       m.commit_context(name, spec_json, done, who);
                   });
    });
}

void ContextObject::HoldPause(sdbus::Result<uint32_t>&& result, std::string who, std::string why) {
    reply_when_ready(getObject(), manager_.bus_calls(), std::move(result), [&](auto reply) {
        authorized<uint32_t>(auth_, getObject(), BusAction::Pause, reply,
                             [&m = manager_, name = name_, who, why, owner = current_sender(getObject())](
                                 const Requester&, auto done) { m.hold_pause(name, who, why, owner, done); });
    });
}

void ContextObject::ReleasePause(sdbus::Result<>&& result, uint32_t cookie) {
    reply_when_done(getObject(), manager_.bus_calls(), std::move(result), [&](Manager::Done reply) {
        authorized(auth_, getObject(), BusAction::Pause, reply,
                   [&m = manager_, name = name_, cookie](const Requester&, auto done) {
                       m.release_pause(cookie, &name, done);
                   });
    });
}

std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string>> ContextObject::PauseHolds() {
    return translate_errors([&] { return holds_to_bus(manager_.holds_on(name_)); });
}

void ContextObject::Snapshot(sdbus::Result<std::string>&& result) {
    reply_when_ready(getObject(), manager_.bus_calls(), std::move(result), [&](auto reply) {
        authorized<std::string>(auth_, getObject(), std::nullopt, reply,
                                [&m = manager_, name = name_](const Requester& who, auto done) {
                                    m.check_read(name, who);
                                    m.snapshot_json(name, done);
                                });
    });
}

void ContextObject::ReadSpec(sdbus::Result<std::string>&& result) {
    reply_when_ready(getObject(), manager_.bus_calls(), std::move(result), [&](auto reply) {
        authorized<std::string>(auth_, getObject(), std::nullopt, reply,
                                [&m = manager_, name = name_](const Requester& who, auto done) {
                                    m.check_read(name, who);
                                    done(nullptr, m.full_spec_json(name));
                                });
    });
}

std::string ContextObject::Name() { return name_; }

std::string ContextObject::State() {
    return translate_errors([&] { return std::string(to_string(manager_.state(name_))); });
}

std::string ContextObject::Spec() {
    return translate_errors([&] { return manager_.spec_json(name_); });
}

std::string ContextObject::Backend() {
    return translate_errors([&] { return manager_.context_backend(name_); });
}

std::string ContextObject::BackendReason() {
    return translate_errors([&] { return manager_.context_backend_reason(name_); });
}

std::string ContextObject::AccessSource() {
    return translate_errors([&] { return manager_.access_source(name_); });
}

std::string ContextObject::AccessSourceReason() {
    return translate_errors([&] { return manager_.access_source_reason(name_); });
}

uint64_t ContextObject::StateSinceUsec() {
    return translate_errors([&] { return manager_.state_since_us(name_); });
}

uint64_t ContextObject::NrRegions() {
    return translate_errors([&] { return manager_.context_stats(name_).nr_regions; });
}

uint64_t ContextObject::NrAggregations() {
    return translate_errors([&] { return manager_.context_stats(name_).nr_aggregations; });
}

uint64_t ContextObject::NrSamples() {
    return translate_errors([&] { return manager_.context_stats(name_).nr_samples; });
}

std::tuple<uint64_t, std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t, bool>>> ContextObject::History() {
    return counted_call(getObject(), manager_.bus_calls(), [&] {
        manager_.state(name_);  // NoSuchContext if it went meanwhile
        std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t, bool>> out;
        for (const HistoryPoint& p : manager_.history().points(name_))
            out.emplace_back(p.unix_us, p.working_set_bytes, p.idle_p90_us, p.paused);
        return std::make_tuple(manager_.history().step_us(), std::move(out));
    });
}

std::map<std::string, sdbus::Variant> ContextObject::Stats() {
    return translate_errors([&] {
        // Built on each read, not kept: 8 variants are 9 KiB a context (18
        // MiB with 1000 apps), and keeping them saved no CPU (a
        // GetManagedObjects of 2000 contexts took damond 51-56 ms either way:
        // the copies into the reply cost, not the building).
        const ContextFigures f = manager_.context_figures(name_);
        // Schemes as one typed array, not a dict each: every variant costs a
        // message copy in each GetAll and GetManagedObjects.
        std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, bool,
                                  std::vector<sdbus::Struct<uint64_t, uint64_t>>>>
            schemes;
        for (const SchemeStats& s : f.schemes) {
            std::vector<sdbus::Struct<uint64_t, uint64_t>> goals;
            for (const auto& g : s.goals) goals.emplace_back(g.current, g.target);
            const DamosStat& c = s.counters;
            schemes.emplace_back(c.nr_tried, c.sz_tried, c.nr_applied, c.sz_applied, c.qt_exceeds,
                                 s.effective_quota_bytes, s.active, goals);
        }
        return std::map<std::string, sdbus::Variant>{
            {"monitored_bytes", f.monitored_bytes},
            {"working_set_bytes", f.working_set_bytes},
            {"idle_p50_us", f.idle_p50_us},
            {"idle_p90_us", f.idle_p90_us},
            {"idle_p99_us", f.idle_p99_us},
            {"sample_us", f.sample_us},
            {"aggr_us", f.aggr_us},
            {"schemes", schemes},
        };
    });
}

std::string ContextObject::LastError() {
    return translate_errors([&] { return manager_.last_error(name_); });
}

}  // namespace damond
