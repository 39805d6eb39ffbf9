#include "events/freezer_watcher.hpp"

#include <sys/inotify.h>

#include <fstream>
#include <sstream>

#include "base/log.hpp"
#include "manager/app_processes.hpp"

namespace damond {

int frozen_from_events(const std::string& text) {
    std::istringstream in(text);
    std::string key;
    int value = -1;
    while (in >> key >> value)
        if (key == "frozen") return value ? 1 : 0;
    return -1;
}

FreezerWatcher::FreezerWatcher(const std::vector<FreezerWatch>& watches, AppEventSink sink) : sink_(std::move(sink)) {
    for (size_t i = 0; i < watches.size(); ++i) {
        try {
            const int wd = inotify_.add(watches[i].cgroup + "/cgroup.events", IN_MODIFY);
            by_wd_[wd] = Watched{watches[i], -1};
        } catch (const std::exception& e) {
            log_error("apps.freezer[" + std::to_string(i) + "]: cannot watch " + e.what());
        }
    }
    for (auto& [wd, w] : by_wd_) check(w);
}

void FreezerWatcher::check(Watched& w) {
    std::ifstream in(w.watch.cgroup + "/cgroup.events");
    std::stringstream text;
    text << in.rdbuf();
    const int frozen = frozen_from_events(text.str());
    if (frozen < 0 || frozen == w.frozen) return;  // "populated" changed, or nothing did
    w.frozen = frozen;
    sink_(AppEvent{w.watch.app_id, frozen ? AppEvent::Kind::Background : AppEvent::Kind::Foreground,
                   pids_in_cgroup(w.watch.cgroup), "cgroup " + w.watch.cgroup + (frozen ? " frozen" : " thawed"),
                   w.watch.cgroup});
}

void FreezerWatcher::handle() {
    inotify_.read_events([this](int wd, uint32_t mask, const std::string&) {
        auto it = by_wd_.find(wd);
        if (it == by_wd_.end()) return;
        if (mask & IN_IGNORED) {  // the cgroup was removed
            log_info("apps.freezer: " + it->second.watch.cgroup + " is gone; no longer watched");
            by_wd_.erase(it);
            return;
        }
        check(it->second);
    });
}

}  // namespace damond
