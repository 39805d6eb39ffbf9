// The cgroup v2 freezer as an event source, the way Android freezes cached
// apps: each configured cgroup's cgroup.events is watched with inotify
// (the kernel notifies a modification when "frozen" flips); frozen 1 puts
// its app in the background, frozen 0 in the foreground. The state found at
// start counts as the first event.
#pragma once

#include <map>
#include <vector>

#include "events/event_source.hpp"
#include "events/inotify_fd.hpp"
#include "manager/config.hpp"

namespace damond {

class FreezerWatcher : public EventSource {
public:
    // A cgroup that cannot be watched is logged, naming its config entry,
    // and skipped.
    FreezerWatcher(const std::vector<FreezerWatch>& watches, AppEventSink sink);
    int fd() const override { return inotify_.fd(); }
    void handle() override;
    size_t watching() const { return by_wd_.size(); }

private:
    struct Watched {
        FreezerWatch watch;
        int frozen = -1;  // as last reported
    };
    void check(Watched& w);

    InotifyFd inotify_;
    AppEventSink sink_;
    std::map<int, Watched> by_wd_;
};

// "frozen" in a cgroup.events text: 1, 0, or -1 when absent.
int frozen_from_events(const std::string& text);

}  // namespace damond
