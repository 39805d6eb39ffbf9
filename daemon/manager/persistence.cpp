#include "manager/persistence.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/atomic_file.hpp"
#include "base/log.hpp"
#include "spec/spec_json.hpp"

namespace damond {

Persistence::Persistence(Manager& manager, AppRegistry& apps, Turn turn, const std::string& dir,
                         const std::string& runtime_dir)
    : manager_(manager),
      apps_(apps),
      turn_(std::move(turn)),
      file_(dir),
      checkpoint_dir_((runtime_dir.empty() ? dir : runtime_dir) + "/checkpoints"),
      history_path_(dir + "/history") {
    for (const std::string& d : {dir, checkpoint_dir_}) {
        try {
            make_private_directory(d);
        } catch (const std::exception& e) {
            log_error(std::string("state directory: ") + e.what());
        }
    }
}

void Persistence::save_history() {
    std::error_code ec;
    if (manager_.history().capacity() == 0) {
        std::filesystem::remove(history_path_, ec);
        return;
    }
    try {
        write_file_atomically(history_path_, manager_.history().serialize());
    } catch (const std::exception& e) {
        log_error(std::string("cannot save the figure history: ") + e.what());
    }
}

void Persistence::load_history() {
    std::ifstream in(history_path_, std::ios::binary);
    if (!in) return;  // none kept yet
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string why_not = manager_.history().load(bytes);
    if (!why_not.empty()) log_info(history_path_ + ": figure history not taken back: " + why_not);
}

std::string Persistence::checkpoint_path(const std::string& context) const {
    // Context names may hold anything but '/' and control characters.
    static const char* hex = "0123456789abcdef";
    std::string file;
    for (unsigned char c : context) {
        if (std::isalnum(c) || c == '-' || c == '.') {
            file.push_back(static_cast<char>(c));
        } else {
            file.push_back('_');
            file.push_back(hex[c >> 4]);
            file.push_back(hex[c & 15]);
        }
    }
    return checkpoint_dir_ + "/" + file + ".json";
}

void Persistence::save_checkpoints() {
    std::error_code ec;
    std::set<std::string> keep;
    for (const ContextInfo& c : manager_.list_contexts()) {
        const std::string cp = manager_.checkpoint(c.name);
        if (cp.empty()) continue;
        const std::string path = checkpoint_path(c.name);
        keep.insert(path);
        // A paused context's does not change. Kept as a hash: 2000 trained
        // contexts' texts would double damond's memory.
        const size_t hash = std::hash<std::string>{}(cp);
        if (auto it = checkpoints_written_.find(path); it != checkpoints_written_.end() && it->second == hash) continue;
        try {
            write_file_atomically(path, cp);
            checkpoints_written_[path] = hash;
        } catch (const std::exception& e) {
            log_error(std::string("cannot save a checkpoint: ") + e.what());
        }
    }
    for (const auto& entry : std::filesystem::directory_iterator(checkpoint_dir_, ec))
        if (!keep.count(entry.path().string())) {
            std::filesystem::remove(entry.path(), ec);
            checkpoints_written_.erase(entry.path().string());
        }
}

void Persistence::offer_checkpoints() {
    manager_.set_checkpoint_source([this](const std::string& name) {
        std::ifstream in(checkpoint_path(name));
        std::stringstream buf;
        buf << in.rdbuf();
        return buf.str();
    });
}

SavedState Persistence::collect() const {
    SavedState s;
    std::set<std::string> app_contexts;
    for (const AppInfo& a : apps_.list()) {
        app_contexts.insert(a.foreground_context);
        app_contexts.insert(a.background_context);
        SavedApp app{a.app_id, to_string(a.state), {}, a.foreground_profile, a.background_profile, a.caller, a.owner};
        for (const auto& [pid, start] : a.start_times) app.processes.push_back({pid, start});
        s.apps.push_back(app);
    }
    const std::map<std::string, std::string> callers = manager_.context_callers();
    for (const auto& [name, spec] : manager_.runtime_contexts())
        if (!app_contexts.count(name)) {
            s.contexts.emplace(name, spec);
            if (auto it = callers.find(name); it != callers.end()) s.context_callers[name] = it->second;
            s.context_owners[name] = manager_.ownership(name);
        }
    s.config_paused = manager_.config_pause_wishes();
    s.holds = manager_.holds();
    s.next_cookie = manager_.next_hold_cookie();
    return s;
}

void Persistence::save() {
    if (restoring_) return;  // a half-restored state must not replace the file
    try {
        file_.save(saved_state_to_json(collect()));
    } catch (const std::exception& e) {
        log_error(std::string("cannot save the state: ") + e.what());
    }
}

std::vector<std::string> Persistence::restore(const std::function<bool(const std::string&)>& bus_name_alive) {
    std::vector<std::string> problems;
    std::string problem;
    const std::optional<SavedState> saved = file_.load(problem);
    if (!problem.empty()) problems.push_back(problem);
    if (!saved) {
        manager_.set_checkpoint_source({});
        restoring_ = false;
        save();
        return problems;
    }
    manager_.set_restoring(true);
    auto here = [this](const std::function<void(Manager::Done)>& start) { finish_here(start, turn_); };
    // Holds first, so that what they cover is created paused.
    std::vector<PauseHold> holds;
    for (const PauseHold& h : saved->holds) {
        if (!h.owner.empty() && !bus_name_alive(h.owner)) {
            problems.push_back("pause hold " + std::to_string(h.cookie) + " by " + h.who + ": " + h.owner +
                               " left the bus while damond was away; dropped");
            continue;
        }
        holds.push_back(h);
    }
    try {
        here([&](Manager::Done d) { manager_.restore_holds(holds, saved->next_cookie, d); });
    } catch (const std::exception& e) {
        problems.push_back(std::string("pause holds: ") + e.what());
    }
    // Named entries, not structured bindings: lambdas below use them (clang
    // 14, of the sanitizer and fuzz builds, cannot capture a binding).
    for (const auto& entry : saved->contexts) {
        const std::string& name = entry.first;
        const ContextSpec& spec = entry.second;
        try {
            auto caller = saved->context_callers.find(name);
            Requester who;
            who.limits_key = caller == saved->context_callers.end() ? "" : caller->second;
            here([&](Manager::Done d) { manager_.create_context(name, spec_to_json(spec).dump(), d, who); });
            if (auto owner = saved->context_owners.find(name); owner != saved->context_owners.end())
                manager_.restore_ownership(name, owner->second);
        } catch (const std::exception& e) {
            problems.push_back("context '" + name + "': " + e.what());
        }
    }
    for (const auto& entry : saved->config_paused) {
        const std::string& name = entry.first;
        const bool paused = entry.second;
        if (!manager_.has_context(name)) continue;  // no longer in the config
        try {
            here([&](Manager::Done d) {
                if (paused)
                    manager_.pause_context(name, d);
                else
                    manager_.resume_context(name, d);
            });
        } catch (const std::exception& e) {
            problems.push_back("context '" + name + "': " + e.what());
        }
    }
    for (const SavedApp& a : saved->apps) {
        std::vector<std::pair<uint32_t, uint64_t>> procs;
        for (const SavedProcess& p : a.processes) procs.emplace_back(p.pid, p.start_time);
        try {
            here([&](Manager::Done d) {
                apps_.restore_app(a.app_id, app_state_from_string(a.state), procs, a.foreground_profile,
                                  a.background_profile, a.caller, a.owner, d);
            });
        } catch (const std::exception& e) {
            problems.push_back("app '" + a.app_id + "': " + e.what());
        }
    }
    // Holds on contexts that did not come back have nothing left to hold.
    for (const PauseHold& h : holds)
        if (!h.context.empty() && !manager_.has_context(h.context)) {
            std::string also;
            try {
                here([&](Manager::Done d) { manager_.release_pause(h.cookie, nullptr, d); });
            } catch (const std::exception& e) {
                also = std::string(" (releasing it: ") + e.what() + ")";
            }
            problems.push_back("pause hold " + std::to_string(h.cookie) + ": context '" + h.context + "' is gone" +
                               also);
        }
    restoring_ = false;
    manager_.set_restoring(false);
    manager_.set_checkpoint_source({});  // later contexts start afresh
    log_info("restored from " + file_.path() + ": " + std::to_string(saved->contexts.size()) + " context(s), " +
                 std::to_string(saved->apps.size()) + " app(s), " + std::to_string(holds.size()) + " hold(s)" +
                 (problems.empty() ? "" : ", " + std::to_string(problems.size()) + " problem(s)"),
             {message_id::kStateRestored});
    save();
    return problems;
}

}  // namespace damond
