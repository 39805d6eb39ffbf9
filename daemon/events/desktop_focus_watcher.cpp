#include "events/desktop_focus_watcher.hpp"

#include <dirent.h>
#include <glob.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cerrno>

#include "base/log.hpp"
#include "manager/app_processes.hpp"

namespace damond {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string unescape_unit(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && isxdigit(static_cast<unsigned char>(s[i + 2])) &&
            isxdigit(static_cast<unsigned char>(s[i + 3]))) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16)));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

std::string app_id_from_unit(const std::string& unit) {
    if (unit.rfind("app-", 0) != 0) return "";
    std::string rest;
    if (ends_with(unit, ".service")) {
        rest = unit.substr(4, unit.size() - 4 - 8);
        if (const size_t at = rest.find('@'); at != std::string::npos) rest.resize(at);
    } else if (ends_with(unit, ".scope")) {
        rest = unit.substr(4, unit.size() - 4 - 6);
        const size_t dash = rest.rfind('-');
        if (dash == std::string::npos || dash == 0) return "";  // a scope always ends in -<random>
        rest.resize(dash);
    } else {
        return "";
    }
    if (const size_t dash = rest.find('-'); dash != std::string::npos && dash > 0 &&
                                            rest.substr(0, dash).find('.') == std::string::npos &&
                                            dash + 1 < rest.size())
        rest = rest.substr(dash + 1);  // the launcher
    return unescape_unit(rest);
}

bool unit_focused(const std::string& dir) {
    char buf[64];
    const ssize_t n = getxattr(dir.c_str(), "user.xdg.inactive-since", buf, sizeof buf - 1);
    if (n < 0) return true;  // ENODATA: never marked inactive, or the mark was removed
    return std::string(buf, static_cast<size_t>(n)) == "-1";
}

namespace {

std::vector<std::string> directories_matching(const std::string& pattern) {
    std::vector<std::string> out;
    glob_t g{};
    if (glob(pattern.c_str(), GLOB_ONLYDIR | GLOB_NOSORT, nullptr, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    return out;
}

// The patterns of the directories on the way to `pattern`'s matches that are
// worth watching: from the parent of its first wildcard component (or of
// its last component) down to the parent of its last. For
// /sys/fs/cgroup/user.slice/user-*.slice/user@*.service/app.slice:
// /sys/fs/cgroup/user.slice, .../user-*.slice, .../user-*.slice/user@*.service.
std::vector<std::string> ancestor_patterns(const std::string& pattern) {
    std::vector<size_t> slashes;  // where each component but the first starts, less one
    for (size_t i = 1; i < pattern.size(); ++i)
        if (pattern[i] == '/') slashes.push_back(i);
    if (slashes.empty()) return {};
    // The slash before the first wildcard component, else before the last one.
    const size_t wild = pattern.find_first_of("*?[");
    size_t from = slashes.size() - 1;
    for (size_t k = 0; k < slashes.size(); ++k)
        if (wild != std::string::npos && (k + 1 == slashes.size() || wild < slashes[k + 1]) && wild > slashes[k]) {
            from = k;
            break;
        }
    std::vector<std::string> out;
    for (size_t k = from; k < slashes.size(); ++k) out.push_back(pattern.substr(0, slashes[k]));
    return out;
}

// Watches are keyed by descriptor, not path: a directory removed and made
// again (a user logging out and in) is a new inode, and a new watch. Drops
// the entries of `dir` under any other descriptor.
void forget_path(std::map<int, std::string>& watches, const std::string& dir, int keep) {
    for (auto it = watches.begin(); it != watches.end();)
        it = it->second == dir && it->first != keep ? watches.erase(it) : std::next(it);
}

}  // namespace

DesktopFocusWatcher::DesktopFocusWatcher(const std::vector<std::string>& app_slices, AppEventSink sink)
    : sink_(std::move(sink)), patterns_(app_slices) {
    for (const std::string& pattern : expand())
        log_info("apps.desktop.app_slices: nothing matches " + pattern + " yet; watching for it");
}

std::vector<std::string> DesktopFocusWatcher::expand() {
    std::vector<std::string> unmatched;
    for (const std::string& pattern : patterns_) {
        for (const std::string& ancestor : ancestor_patterns(pattern))
            for (const std::string& dir : directories_matching(ancestor)) {
                try {
                    const int wd = inotify_.add(dir, IN_CREATE | IN_ONLYDIR);
                    forget_path(ancestors_, dir, wd);
                    ancestors_[wd] = dir;
                } catch (const std::exception&) {
                    // Gone again, or not a place to watch: the slices still count.
                }
            }
        const std::vector<std::string> slices = directories_matching(pattern);
        if (slices.empty()) unmatched.push_back(pattern);
        for (const std::string& slice : slices) watch_slice(slice);
    }
    return unmatched;
}

void DesktopFocusWatcher::watch_slice(const std::string& slice) {
    int wd = -1;
    try {
        wd = inotify_.add(slice, IN_CREATE | IN_DELETE | IN_ONLYDIR);
    } catch (const std::exception& e) {
        log_error(std::string("apps.desktop.app_slices: cannot watch ") + e.what());
        return;
    }
    if (slices_.count(wd)) return;  // watched already
    forget_path(slices_, slice, wd);
    slices_[wd] = slice;
    if (DIR* d = opendir(slice.c_str())) {
        while (dirent* e = readdir(d))
            if (e->d_type == DT_DIR) add_unit(slice, e->d_name);
        closedir(d);
    }
}

void DesktopFocusWatcher::add_unit(const std::string& slice, const std::string& name) {
    const std::string app_id = app_id_from_unit(name);
    const std::string dir = slice + "/" + name;
    if (app_id.empty() || units_.count(dir)) return;
    Unit u{dir, app_id, -1, false};
    try {
        u.wd = inotify_.add(dir, IN_ATTRIB | IN_ONLYDIR);  // setxattr/removexattr
    } catch (const std::exception& e) {
        log_error(std::string("apps.desktop: cannot watch ") + e.what());
        return;
    }
    u.focused = unit_focused(dir);
    if (pids_in_cgroup(dir).empty()) {
        try {
            u.events_wd = inotify_.add(dir + "/cgroup.events", IN_MODIFY);
            empty_unit_by_wd_[u.events_wd] = dir;
        } catch (const std::exception& e) {
            log_error(std::string("apps.desktop: cannot watch ") + e.what());
        }
    }
    units_[dir] = u;
    unit_by_wd_[u.wd] = dir;
    // Raced with the first process? Then it is there now.
    if (u.events_wd >= 0 && !pids_in_cgroup(dir).empty())
        populated(dir);
    else if (u.events_wd < 0)
        report(app_id, "unit " + name + " appeared");
}

void DesktopFocusWatcher::populated(const std::string& dir) {
    Unit& u = units_.at(dir);
    if (u.events_wd < 0) return;
    empty_unit_by_wd_.erase(u.events_wd);
    inotify_.remove(u.events_wd);
    u.events_wd = -1;
    report(u.app_id, "unit " + dir.substr(dir.rfind('/') + 1) + " appeared");
}

void DesktopFocusWatcher::remove_unit(std::string dir) {
    auto it = units_.find(dir);
    if (it == units_.end()) return;
    const std::string app_id = it->second.app_id;
    const bool announced = it->second.events_wd < 0;
    if (!announced) empty_unit_by_wd_.erase(it->second.events_wd);
    unit_by_wd_.erase(it->second.wd);
    units_.erase(it);
    if (!announced && !reported_.count(app_id)) return;  // never said it was there
    for (const auto& [d, u] : units_)
        if (u.app_id == app_id) {
            report(app_id, "a unit of it ended");
            return;
        }
    reported_.erase(app_id);
    sink_(AppEvent{app_id, AppEvent::Kind::Gone, {}, "its last unit ended", ""});
}

void DesktopFocusWatcher::report(const std::string& app_id, const std::string& why) {
    bool focused = false;
    std::vector<uint32_t> pids;
    std::string cgroup;
    for (const auto& [dir, u] : units_)
        if (u.app_id == app_id && u.events_wd < 0) {
            if (cgroup.empty()) cgroup = dir;
            focused = focused || u.focused;
            for (uint32_t p : pids_in_cgroup(dir)) pids.push_back(p);
        }
    auto it = reported_.find(app_id);
    if (it != reported_.end() && it->second == int(focused)) return;
    reported_[app_id] = focused;
    sink_(AppEvent{app_id, focused ? AppEvent::Kind::Foreground : AppEvent::Kind::Background, pids,
                   why + (focused ? ": focused" : ": inactive"), cgroup});
}

void DesktopFocusWatcher::handle() {
    bool grew = false;
    inotify_.read_events([this, &grew](int wd, uint32_t mask, const std::string& name) {
        if (auto a = ancestors_.find(wd); a != ancestors_.end()) {
            if (mask & IN_IGNORED)
                ancestors_.erase(a);
            else if ((mask & IN_CREATE) && (mask & IN_ISDIR))
                grew = true;
            return;
        }
        if (auto s = slices_.find(wd); s != slices_.end()) {
            if (mask & IN_IGNORED) {  // the slice went (its user logged out); its units say so themselves
                slices_.erase(s);
                return;
            }
            if (!(mask & IN_ISDIR)) return;
            if (mask & IN_CREATE) add_unit(s->second, name);
            if (mask & IN_DELETE) remove_unit(s->second + "/" + name);
            return;
        }
        if (auto e = empty_unit_by_wd_.find(wd); e != empty_unit_by_wd_.end()) {
            const std::string dir = e->second;
            if (mask & IN_IGNORED)
                empty_unit_by_wd_.erase(e);  // the unit went; its dir's watch says so
            else if (!pids_in_cgroup(dir).empty())
                populated(dir);
            return;
        }
        auto u = unit_by_wd_.find(wd);
        if (u == unit_by_wd_.end()) return;
        if (mask & IN_IGNORED) {  // removed; the slice's IN_DELETE says so too
            remove_unit(u->second);
            return;
        }
        Unit& unit = units_.at(u->second);
        if (unit.events_wd >= 0) {  // not announced yet: its focus counts when it is
            unit.focused = unit_focused(unit.dir);
            return;
        }
        const bool focused = unit_focused(unit.dir);
        if (focused == unit.focused) return;
        unit.focused = focused;
        report(unit.app_id, unit.dir.substr(unit.dir.rfind('/') + 1));
    });
    // Out of the callback: expand() adds watches.
    if (grew) expand();
}

}  // namespace damond
