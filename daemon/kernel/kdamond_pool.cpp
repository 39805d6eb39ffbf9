#include "kernel/kdamond_pool.hpp"

#include "kernel/kdamond_state.hpp"
#include "spec/json_object_reader.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "base/atomic_file.hpp"
#include "kernel/sysfs_tree.hpp"

namespace damond {

namespace {

// This boot's id: a record of another boot says nothing of the kdamonds
// running now (other tools may have taken the same indices since).
std::string current_boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

}  // namespace

KdamondPool::KdamondPool(GuardedTree& tree, uint32_t size, const std::string& state_dir)
    : path_(state_dir + "/kdamonds.json") {
    const uint32_t first = static_cast<uint32_t>(std::stoul(tree.read("kdamonds/nr_kdamonds")));
    tree.grow_pool(first, size);
    for (uint32_t k = first; k < first + size; ++k) {
        all_.insert(k);
        free_.insert(k);
    }
    std::filesystem::create_directories(state_dir);
    save();
}

std::optional<KdamondPool> KdamondPool::recorded(const SysfsTree& tree, const std::string& state_dir,
                                                 std::string& why) {
    KdamondPool pool;
    pool.path_ = state_dir + "/kdamonds.json";
    bool same_boot = false;
    std::ifstream in(pool.path_);
    if (!in) {
        why = "no record of kdamonds from an earlier run";
        return std::nullopt;
    }
    try {
        std::stringstream buf;
        buf << in.rdbuf();
        const nlohmann::json j = nlohmann::json::parse(buf.str());
        if (j.contains("boot_id") && j.at("boot_id").is_string())
            same_boot = !current_boot_id().empty() && j.at("boot_id").get<std::string>() == current_boot_id();
        for (const auto& k : j.at("owned"))
            pool.all_.insert(static_cast<uint32_t>(json_to_u64(k, "owned", UINT32_MAX)));
        if (j.contains("assigned"))
            for (const auto& [name, a] : j.at("assigned").items())
                pool.assigned_[name] =
                    Assignment{static_cast<uint32_t>(json_to_u64(a.at("kdamond"), "kdamond", UINT32_MAX)),
                               static_cast<int>(json_to_i64(a.at("pid"), "pid", INT32_MIN, INT32_MAX))};
    } catch (const std::exception& e) {
        why = pool.path_ + " does not parse: " + e.what();
        return std::nullopt;
    }
    if (pool.all_.empty()) {
        why = pool.path_ + " records no kdamond";
        return std::nullopt;
    }
    std::map<uint32_t, int> pid_of;
    for (const auto& [name, a] : pool.assigned_) pid_of[a.kdamond] = a.pid;
    for (uint32_t k : pool.all_) {
        const std::string kd = "kdamonds/" + std::to_string(k);
        if (!tree.exists(kd + "/state")) {
            why = "recorded kdamond " + std::to_string(k) + " no longer exists";
            return std::nullopt;
        }
        if (!kdamond_dir_running(tree, kd)) continue;
        // Running: damond's only if it is the very kdamond damond started.
        const std::string pid = read_or(tree, kd + "/pid", "");
        if (!pid_of.count(k) || pid != std::to_string(pid_of[k])) {
            // In this boot, a kdamond damond had claimed for a context (pid
            // 0: being turned on) or restarted (a resume by checkpoint) is
            // damond's, caught before its new pid was recorded: nobody else
            // turns on a kdamond of damond's pool. Across a boot it is not.
            if (same_boot && pid_of.count(k)) {
                for (auto& [name, a] : pool.assigned_)
                    if (a.kdamond == k) a.pid = std::atoi(pid.c_str());
                continue;
            }
            why = "recorded kdamond " + std::to_string(k) + " runs with pid " + pid + ", which damond did not record";
            return std::nullopt;
        }
    }
    pool.free_ = pool.all_;
    return pool;
}

std::optional<uint32_t> KdamondPool::acquire(const std::string& name) {
    auto mine = assigned_.find(name);
    if (mine != assigned_.end() && free_.count(mine->second.kdamond)) {
        free_.erase(mine->second.kdamond);
        claimed_.insert(name);
        return mine->second.kdamond;
    }
    std::set<uint32_t> reserved;
    for (const auto& [other, a] : assigned_)
        if (other != name) reserved.insert(a.kdamond);
    for (uint32_t k : free_)
        if (!reserved.count(k)) {
            free_.erase(k);
            claimed_.insert(name);
            return k;
        }
    return std::nullopt;
}

int KdamondPool::recorded_pid(const std::string& name, uint32_t kdamond) const {
    auto it = assigned_.find(name);
    return it != assigned_.end() && it->second.kdamond == kdamond ? it->second.pid : -1;
}

void KdamondPool::claim(const std::string& name, uint32_t kdamond) {
    assigned_[name] = Assignment{kdamond, 0};
    save();
}

void KdamondPool::running(const std::string& name, uint32_t kdamond, int pid) {
    if (free_.count(kdamond)) return;  // released since: its context is gone
    assigned_[name] = Assignment{kdamond, pid};
    save();
}

void KdamondPool::release(uint32_t kdamond, bool detached) {
    if (!all_.count(kdamond)) return;
    free_.insert(kdamond);
    if (detached) return;
    for (auto it = assigned_.begin(); it != assigned_.end();) {
        if (it->second.kdamond == kdamond)
            it = assigned_.erase(it);
        else
            ++it;
    }
    save();
}

void KdamondPool::own_in(GuardedTree& tree) const {
    for (uint32_t k : all_) tree.own(k);
}

std::vector<std::string> KdamondPool::turn_off_unclaimed(GuardedTree& tree) {
    std::vector<std::string> done;
    bool forgot = false;
    for (auto it = assigned_.begin(); it != assigned_.end();) {
        if (claimed_.count(it->first)) {
            ++it;
            continue;
        }
        const std::string kd = "kdamonds/" + std::to_string(it->second.kdamond);
        if (kdamond_dir_running(tree, kd)) {
            try {
                tree.write(kd + "/state", to_string(KdamondCommand::Off));
                done.push_back("kdamond " + std::to_string(it->second.kdamond) + " ran context '" + it->first +
                               "', which did not come back: turned off");
            } catch (const std::exception& e) {
                done.push_back("kdamond " + std::to_string(it->second.kdamond) + ": cannot turn it off: " + e.what());
            }
        }
        it = assigned_.erase(it);
        forgot = true;
    }
    if (forgot) save();
    return done;
}

void KdamondPool::save() const {
    nlohmann::json j;
    j["boot_id"] = current_boot_id();
    j["owned"] = all_;
    j["assigned"] = nlohmann::json::object();
    for (const auto& [name, a] : assigned_) j["assigned"][name] = {{"kdamond", a.kdamond}, {"pid", a.pid}};
    write_file_atomically(path_, j.dump() + "\n");
}

}  // namespace damond
