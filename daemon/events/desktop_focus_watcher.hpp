// Desktop focus as an event source, read the way uresourced reads it: the
// desktop marks a systemd user unit's cgroup with the xattr
// user.xdg.inactive-since (a timestamp) while none of its windows is
// focused, and removes it (or writes -1) when one is. Units are the
// app-*.scope / app-*.service cgroups under the configured app.slices; the
// app id comes from the unit name. A unit that appears registers its app, one
// that goes removes it; several units of one app (two windows of an editor
// started twice) are one app, foreground while any of them is focused.
// Slices that appear later (a user who logs in after damond started) are
// found too: the directories leading to them are watched for new ones.
// A unit's cgroup is made before its first process moves in (systemd-run
// --scope): an empty unit is announced once its cgroup.events says
// "populated 1", so the app is registered with a process to watch.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "events/event_source.hpp"
#include "events/inotify_fd.hpp"

namespace damond {

class DesktopFocusWatcher : public EventSource {
public:
    // `app_slices`: directories, glob patterns: expanded now, and again when
    // a directory appears along their way. A slice that cannot be watched is
    // logged and skipped.
    DesktopFocusWatcher(const std::vector<std::string>& app_slices, AppEventSink sink);
    int fd() const override { return inotify_.fd(); }
    void handle() override;
    size_t slices() const { return slices_.size(); }

private:
    struct Unit {
        std::string dir;
        std::string app_id;
        int wd = -1;
        bool focused = false;
        int events_wd = -1;  // cgroup.events, while the unit waits for a process
    };
    // Watches what the patterns match now: slices, and the directories on
    // the way to slices that may appear. Returns the patterns matching none.
    std::vector<std::string> expand();
    void watch_slice(const std::string& slice);
    void add_unit(const std::string& slice, const std::string& name);
    void remove_unit(std::string dir);
    // An empty unit got its first process: announced now.
    void populated(const std::string& dir);
    void report(const std::string& app_id, const std::string& why);

    InotifyFd inotify_;
    AppEventSink sink_;
    std::vector<std::string> patterns_;
    std::map<int, std::string> slices_;     // wd -> slice dir
    std::map<int, std::string> ancestors_;  // wd -> a directory on the way to slices
    std::map<std::string, Unit> units_;     // unit dir -> unit
    std::map<int, std::string> unit_by_wd_;
    std::map<int, std::string> empty_unit_by_wd_;  // cgroup.events wd -> unit dir
    std::map<std::string, int> reported_;          // app id -> 1 foreground, 0 background
};

// The application id in a systemd app unit name, per the XDG convention
// app[-<launcher>]-<ApplicationID>[@<instance>].service and
// app[-<launcher>]-<ApplicationID>-<random>.scope, with \xNN escapes
// undone. "" if the name is not an app unit. A launcher prefix is told from
// a reverse-DNS id by having no dot.
std::string app_id_from_unit(const std::string& unit);

// Focused: no user.xdg.inactive-since xattr on the directory, or "-1".
bool unit_focused(const std::string& dir);

}  // namespace damond
