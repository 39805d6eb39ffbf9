#include "events/desktop_focus_watcher.hpp"

#include <dirent.h>
#include <glob.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cerrno>

#include "log.hpp"
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

DesktopFocusWatcher::DesktopFocusWatcher(const std::vector<std::string>& app_slices, AppEventSink sink)
    : sink_(std::move(sink)) {
    for (const std::string& pattern : app_slices) {
        glob_t g{};
        if (glob(pattern.c_str(), GLOB_ONLYDIR | GLOB_NOSORT, nullptr, &g) != 0) {
            log_info("apps.desktop.app_slices: nothing matches " + pattern + " yet");
            globfree(&g);
            continue;
        }
        for (size_t i = 0; i < g.gl_pathc; ++i) {
            const std::string slice = g.gl_pathv[i];
            try {
                slices_[inotify_.add(slice, IN_CREATE | IN_DELETE | IN_ONLYDIR)] = slice;
            } catch (const std::exception& e) {
                log_error(std::string("apps.desktop.app_slices: cannot watch ") + e.what());
                continue;
            }
            if (DIR* d = opendir(slice.c_str())) {
                while (dirent* e = readdir(d))
                    if (e->d_type == DT_DIR) add_unit(slice, e->d_name);
                closedir(d);
            }
        }
        globfree(&g);
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
    units_[dir] = u;
    unit_by_wd_[u.wd] = dir;
    report(app_id, "unit " + name + " appeared");
}

void DesktopFocusWatcher::remove_unit(std::string dir) {
    auto it = units_.find(dir);
    if (it == units_.end()) return;
    const std::string app_id = it->second.app_id;
    unit_by_wd_.erase(it->second.wd);
    units_.erase(it);
    for (const auto& [d, u] : units_)
        if (u.app_id == app_id) {
            report(app_id, "a unit of it ended");
            return;
        }
    reported_.erase(app_id);
    sink_(AppEvent{app_id, AppEvent::Kind::Gone, {}, "its last unit ended"});
}

void DesktopFocusWatcher::report(const std::string& app_id, const std::string& why) {
    bool focused = false;
    std::vector<uint32_t> pids;
    for (const auto& [dir, u] : units_)
        if (u.app_id == app_id) {
            focused = focused || u.focused;
            for (uint32_t p : pids_in_cgroup(dir)) pids.push_back(p);
        }
    auto it = reported_.find(app_id);
    if (it != reported_.end() && it->second == int(focused)) return;
    reported_[app_id] = focused;
    sink_(AppEvent{app_id, focused ? AppEvent::Kind::Foreground : AppEvent::Kind::Background, pids,
                   why + (focused ? ": focused" : ": inactive")});
}

void DesktopFocusWatcher::handle() {
    inotify_.read_events([this](int wd, uint32_t mask, const std::string& name) {
        if (auto s = slices_.find(wd); s != slices_.end()) {
            if (!(mask & IN_ISDIR)) return;
            if (mask & IN_CREATE) add_unit(s->second, name);
            if (mask & IN_DELETE) remove_unit(s->second + "/" + name);
            return;
        }
        auto u = unit_by_wd_.find(wd);
        if (u == unit_by_wd_.end()) return;
        if (mask & IN_IGNORED) {  // removed; the slice's IN_DELETE says so too
            remove_unit(u->second);
            return;
        }
        Unit& unit = units_.at(u->second);
        const bool focused = unit_focused(unit.dir);
        if (focused == unit.focused) return;
        unit.focused = focused;
        report(unit.app_id, unit.dir.substr(unit.dir.rfind('/') + 1));
    });
}

}  // namespace damond
