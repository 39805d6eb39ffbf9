#include "manager/saved_state.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include "spec/json_object_reader.hpp"

#include <nlohmann/json.hpp>

#include "base/atomic_file.hpp"
#include "sources/proc_fs.hpp"
#include "spec/spec_json.hpp"

namespace damond {

using nlohmann::json;

namespace {

json ownership_to_json(const Ownership& o) { return {{"uid", o.uid}, {"groups", o.groups}, {"granted", o.granted}}; }

Ownership ownership_from_json(const json& j) {
    Ownership o;
    o.uid = static_cast<uid_t>(json_to_u64(j.at("uid"), "uid", UINT32_MAX));
    for (const json& g : j.at("groups")) o.groups.push_back(static_cast<gid_t>(json_to_u64(g, "groups", UINT32_MAX)));
    o.granted = j.at("granted").get<bool>();
    return o;
}

// Files written before ownership: the creator "uid N" owns it, with the
// user's groups, and is held to the rule from now on; damond's are root's.
Ownership owner_of_caller(const std::string& caller) {
    Ownership o;
    if (caller.rfind("uid ", 0) != 0) return o;
    const Requester user = Requester::user(static_cast<uid_t>(std::stoul(caller.substr(4))));
    o.uid = user.uid;
    o.groups = user.groups;
    return o;
}

}  // namespace

std::string saved_state_to_json(const SavedState& state) {
    json j;
    j["version"] = 1;
    j["contexts"] = json::object();
    for (const auto& [name, spec] : state.contexts) j["contexts"][name] = spec_to_json(spec);
    j["config_paused"] = state.config_paused;
    j["context_callers"] = state.context_callers;
    j["context_owners"] = json::object();
    for (const auto& [name, o] : state.context_owners) j["context_owners"][name] = ownership_to_json(o);
    j["apps"] = json::array();
    for (const SavedApp& a : state.apps) {
        json procs = json::array();
        for (const SavedProcess& p : a.processes) procs.push_back({{"pid", p.pid}, {"start_time", p.start_time}});
        j["apps"].push_back({{"app_id", a.app_id},
                             {"state", a.state},
                             {"processes", procs},
                             {"foreground_profile", a.foreground_profile},
                             {"background_profile", a.background_profile},
                             {"caller", a.caller},
                             {"owner", ownership_to_json(a.owner)}});
    }
    j["holds"] = json::array();
    for (const PauseHold& h : state.holds)
        j["holds"].push_back(
            {{"cookie", h.cookie}, {"context", h.context}, {"who", h.who}, {"why", h.why}, {"owner", h.owner}});
    j["next_cookie"] = state.next_cookie;
    return j.dump(1) + "\n";
}

SavedState saved_state_from_json(const std::string& text) {
    SavedState s;
    try {
        const json j = json::parse(text);
        if (json_to_i64(j.at("version"), "version", 0, INT32_MAX) != 1)
            throw std::runtime_error("unknown version " + j.at("version").dump());
        for (const auto& [name, spec] : j.at("contexts").items()) s.contexts.emplace(name, spec_from_json(spec));
        s.config_paused = j.at("config_paused").get<std::map<std::string, bool>>();
        // Files written before the limits have no callers.
        if (j.contains("context_callers"))
            s.context_callers = j.at("context_callers").get<std::map<std::string, std::string>>();
        for (const auto& [name, caller] : s.context_callers) s.context_owners[name] = owner_of_caller(caller);
        if (j.contains("context_owners"))
            for (const auto& [name, o] : j.at("context_owners").items())
                s.context_owners[name] = ownership_from_json(o);
        for (const json& a : j.at("apps")) {
            SavedApp app;
            app.app_id = a.at("app_id").get<std::string>();
            app.state = a.at("state").get<std::string>();
            if (app.state != "foreground" && app.state != "background")
                throw std::runtime_error("app " + app.app_id + ": unknown state " + app.state);
            for (const json& p : a.at("processes"))
                app.processes.push_back({static_cast<uint32_t>(json_to_u64(p.at("pid"), "pid", UINT32_MAX)),
                                         json_to_u64(p.at("start_time"), "start_time", UINT64_MAX)});
            app.foreground_profile = a.at("foreground_profile").get<std::string>();
            app.background_profile = a.at("background_profile").get<std::string>();
            if (a.contains("caller")) app.caller = a.at("caller").get<std::string>();
            app.owner = a.contains("owner") ? ownership_from_json(a.at("owner")) : owner_of_caller(app.caller);
            s.apps.push_back(app);
        }
        for (const json& h : j.at("holds"))
            s.holds.push_back({static_cast<uint32_t>(json_to_u64(h.at("cookie"), "cookie", UINT32_MAX)),
                               h.at("context").get<std::string>(), h.at("who").get<std::string>(),
                               h.at("why").get<std::string>(), h.at("owner").get<std::string>()});
        s.next_cookie = static_cast<uint32_t>(json_to_u64(j.at("next_cookie"), "next_cookie", UINT32_MAX));
    } catch (const std::runtime_error&) {
        throw;
    } catch (const std::exception& e) {
        throw std::runtime_error(e.what());
    }
    return s;
}

std::optional<SavedState> StateFile::load(std::string& problem) const {
    std::ifstream in(path_);
    if (!in) return std::nullopt;
    std::stringstream buf;
    buf << in.rdbuf();
    try {
        SavedState s = saved_state_from_json(buf.str());
        return s;
    } catch (const std::exception& e) {
        const std::string aside = path_ + ".corrupt";
        std::rename(path_.c_str(), aside.c_str());
        problem = path_ + " is unusable (" + e.what() + "); set aside as " + aside + ", starting without it";
        return std::nullopt;
    }
}

void StateFile::save(const std::string& json) {
    if (json == last_) return;
    write_file_atomically(path_, json);
    last_ = json;
}

}  // namespace damond
