// What the manager knows now, answered without waiting for a monitor.
#include "manager/manager.hpp"

#include "base/errors.hpp"
#include "base/log.hpp"

#include "monitor/snapshot_json.hpp"
#include "spec/spec_json.hpp"

namespace damond {

// --- what is known now -------------------------------------------------------

std::vector<ContextInfo> Manager::list_contexts() const {
    std::vector<ContextInfo> out;
    for (const auto& [name, ctx] : contexts_)
        if (!ctx.starting) out.push_back(ContextInfo{name, ctx.monitor->state()});
    return out;
}

MonitorState Manager::state(const std::string& name) const { return get(name).monitor->state(); }

MonitorStats Manager::context_stats(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    // A blocking monitor's own copy may be changing on its context's thread.
    if (!ctx.op_in_progress || !ctx.monitor->blocking()) return ctx.monitor->stats();
    MonitorStats s;
    s.nr_samples = ctx.last_snapshot.nr_samples;
    s.nr_aggregations = ctx.last_snapshot.nr_aggregations;
    for (const auto& t : ctx.last_snapshot.targets) s.nr_regions += t.size();
    return s;
}

ContextFigures Manager::context_figures(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    if (!ctx.monitor) return {};
    if (!ctx.op_in_progress || !ctx.monitor->blocking()) return ctx.monitor->figures();
    return figures_of(ctx.last_snapshot);
}

uint64_t Manager::paused_us(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    uint64_t us = ctx.counters.paused_us;
    if (ctx.counted_state == MonitorState::Paused) {
        const uint64_t now = now_us_();
        us += now - std::min(now, ctx.state_since_us);
    }
    return us;
}

bool Manager::announce_stats() {
    bool running = false;
    std::vector<std::string> moved;
    for (auto& [name, ctx] : contexts_) {
        if (ctx.starting || !ctx.monitor) continue;
        running = running || ctx.monitor->state() == MonitorState::Running;
        const uint64_t aggregations = context_figures(name).nr_aggregations;
        if (aggregations == ctx.announced_aggregations) continue;
        ctx.announced_aggregations = aggregations;
        moved.push_back(name);
    }
    for (const std::string& name : moved)
        if (contexts_.count(name)) listener_.context_changed(name, {ContextField::Stats});
    return running;
}

void Manager::record_history(uint64_t unix_us) {
    for (const auto& [name, ctx] : contexts_) {
        if (ctx.starting || !ctx.monitor) continue;
        const ContextFigures f = context_figures(name);
        history_.record(name, unix_us, f.working_set_bytes, f.idle_p90_us,
                        ctx.monitor->state() != MonitorState::Running);
    }
}

void Manager::refresh_figures() {
    for (auto& [name, ctx] : contexts_) {
        if (ctx.starting || !ctx.monitor || !ctx.monitor->blocking() || ctx.op_in_progress || !ctx.queue.empty())
            continue;
        if (ctx.monitor->state() != MonitorState::Running) continue;
        snapshot_json(name, [](std::exception_ptr, std::string) {});
    }
}

std::string Manager::spec_json(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    if (ctx.json.empty() || !(ctx.json_of == ctx.spec)) {
        ContextSpec shown = ctx.spec;
        if (has_private_regions(shown.ops))
            for (Target& t : shown.targets) t.regions.clear();
        ctx.json = spec_to_json(shown).dump();
        ctx.json_of = ctx.spec;
    }
    return ctx.json;
}

std::string Manager::full_spec_json(const std::string& name) const { return spec_to_json(get(name).spec).dump(); }

std::string Manager::last_error(const std::string& name) const { return get(name).last_error; }

std::string Manager::access_source(const std::string& name) const { return get(name).monitor->access_source(); }

std::string Manager::access_source_reason(const std::string& name) const {
    return get(name).monitor->access_source_reason();
}

std::string Manager::context_backend(const std::string& name) const { return to_string(get(name).monitor->backend()); }

std::string Manager::context_backend_reason(const std::string& name) const {
    const std::string& own = get(name).monitor->backend_reason();
    return own.empty() ? backend_reason_ : own;
}

std::string Manager::checkpoint(const std::string& name) const {
    const ManagedContext& ctx = get(name);
    if (ctx.op_in_progress || !ctx.queue.empty()) return "";
    return ctx.monitor->checkpoint();
}

std::map<std::string, ContextSpec> Manager::runtime_contexts() const {
    std::map<std::string, ContextSpec> out;
    for (const auto& [name, ctx] : contexts_)
        // Not the apps' contexts (the app registry keeps those): one whose
        // app was still registering when damond died must not come back alone.
        if (ctx.counted && !ctx.starting) out.emplace(name, ctx.spec);
    return out;
}

std::map<std::string, bool> Manager::config_pause_wishes() const {
    std::map<std::string, bool> out;
    for (const auto& [name, ctx] : contexts_)
        if (ctx.from_config && !ctx.starting && ctx.spec.pause != ctx.config_spec.pause)
            out.emplace(name, ctx.spec.pause);
    return out;
}

BackendFacts Manager::backend_facts() const {
    if (facts_source_) return facts_source_();
    BackendFacts none;
    none.pause_mode_reason = "no kernel tree was given to damond";
    return none;
}

std::string Manager::status_text() const {
    size_t paused = 0, n = 0;
    for (const auto& [name, ctx] : contexts_) {
        if (ctx.starting) continue;
        ++n;
        if (ctx.monitor->state() == MonitorState::Paused) ++paused;
    }
    std::string text = std::to_string(n) + (n == 1 ? " context, " : " contexts, ") + std::to_string(paused) +
                       " paused, backend " + to_string(backend_);
    if (backend_detail_)
        if (const std::string d = backend_detail_(); !d.empty()) text += " (" + d + ")";
    if (!holds_.empty()) text += ", " + std::to_string(holds_.all().size()) + " pause hold(s)";
    return text;
}

}  // namespace damond
