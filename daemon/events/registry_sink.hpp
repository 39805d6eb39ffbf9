// Event sources feed the app registry through this, as SetAppState does: an
// app they find is registered with the processes they see, a "gone" event
// unregisters it. Failures are logged: there is no caller to answer.
#pragma once

#include <memory>
#include <vector>

#include "events/event_source.hpp"
#include "manager/app_registry.hpp"

namespace damond {

AppEventSink registry_sink(AppRegistry& apps);

// The sources the apps config asks for (freezer cgroups, desktop app
// slices), each feeding `sink`.
std::vector<std::unique_ptr<EventSource>> make_event_sources(const AppsConfig& config, const AppEventSink& sink);

}  // namespace damond
