#include "events/registry_sink.hpp"

#include "base/log.hpp"
#include "events/desktop_focus_watcher.hpp"
#include "events/freezer_watcher.hpp"

namespace damond {

AppEventSink registry_sink(AppRegistry& apps) {
    return [&apps](const AppEvent& ev) {
        const std::string app_id = ev.app_id, why = ev.why;
        auto logged = [app_id, why](std::exception_ptr error) {
            if (error) log_error("app '" + app_id + "' (" + why + "): " + error_text(error));
        };
        if (ev.kind == AppEvent::Kind::Gone) {
            if (apps.has_app(ev.app_id)) apps.unregister_app(ev.app_id, "gone: " + ev.why, logged);
            return;
        }
        const AppState state = ev.kind == AppEvent::Kind::Foreground ? AppState::Foreground : AppState::Background;
        log_info("app '" + ev.app_id + "': " + ev.why);
        apps.source_event(ev.app_id, state, ev.pids, ev.cgroup, [logged](std::exception_ptr e, bool) { logged(e); });
    };
}

std::vector<std::unique_ptr<EventSource>> make_event_sources(const AppsConfig& config, const AppEventSink& sink) {
    std::vector<std::unique_ptr<EventSource>> out;
    if (!config.freezer.empty()) out.push_back(std::make_unique<FreezerWatcher>(config.freezer, sink));
    if (!config.desktop_app_slices.empty())
        out.push_back(std::make_unique<DesktopFocusWatcher>(config.desktop_app_slices, sink));
    return out;
}

}  // namespace damond
