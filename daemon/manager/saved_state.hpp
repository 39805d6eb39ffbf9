// What damond keeps across restarts, and its file: contexts created at run
// time (with their pause wish), the pause wish of config contexts, apps with
// their state, profiles and processes (pid and start time, so a reused pid is
// never taken for the app), and pause holds (with the bus name that took
// them). Written atomically after each change; a file that does not parse is
// set aside, never fatal.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "manager/access_rules.hpp"
#include "manager/pause_holds.hpp"
#include "spec/context_spec.hpp"

namespace damond {

struct SavedProcess {
    uint32_t pid = 0;
    uint64_t start_time = 0;  // /proc/<pid>/stat field 22, clock ticks since boot
    bool operator==(const SavedProcess&) const = default;
};

struct SavedApp {
    std::string app_id;
    std::string state;  // "foreground" | "background"
    std::vector<SavedProcess> processes;
    std::string foreground_profile, background_profile;
    std::string caller;  // who registered it, for the limits ("" for damond)
    Ownership owner;     // who it was registered for
    bool operator==(const SavedApp&) const = default;
};

struct SavedState {
    std::map<std::string, ContextSpec> contexts;         // created over the bus
    std::map<std::string, std::string> context_callers;  // who created them, for the limits
    std::map<std::string, Ownership> context_owners;     // who reads their regions
    std::map<std::string, bool> config_paused;           // config contexts paused over the bus
    std::vector<SavedApp> apps;
    std::vector<PauseHold> holds;
    uint32_t next_cookie = 1;
};

std::string saved_state_to_json(const SavedState& state);
// Throws std::runtime_error saying what is wrong.
SavedState saved_state_from_json(const std::string& text);

// <dir>/state.json.
class StateFile {
public:
    explicit StateFile(std::string dir) : path_(std::move(dir) + "/state.json") {}
    const std::string& path() const { return path_; }
    // nullopt when there is no file, or it is corrupt: then it is renamed to
    // state.json.corrupt and `problem` says why.
    std::optional<SavedState> load(std::string& problem) const;
    // Writes `json` unless it is what was written last. Throws std::system_error.
    void save(const std::string& json);

private:
    std::string path_;
    std::string last_;
};

}  // namespace damond
