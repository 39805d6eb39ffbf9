#include "kernel/target_exits.hpp"

#include <algorithm>

#include "base/errors.hpp"

namespace damond {

TargetExits::TargetExits() : watcher_([this](const std::string& key, pid_t pid) { exited(key, pid); }) {}

void TargetExits::watch(const std::string& key, const std::vector<pid_t>& pids, std::function<void()> on_exit) {
    std::vector<pid_t> gone;
    {
        std::lock_guard<std::mutex> lock(mu_);
        watched_[key] = {{}, on_exit};
        for (pid_t pid : pids) {
            try {
                watcher_.watch(key, pid);
                watched_[key].pids.push_back(pid);
            } catch (const DamondError&) {
                gone.push_back(pid);
            }
        }
    }
    for (size_t i = 0; i < gone.size(); ++i) on_exit();
}

void TargetExits::unwatch(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = watched_.find(key);
    if (it == watched_.end()) return;
    for (pid_t pid : it->second.pids) watcher_.unwatch(key, pid);
    watched_.erase(it);
}

void TargetExits::exited(const std::string& key, pid_t pid) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = watched_.find(key);
    if (it == watched_.end()) return;
    auto& pids = it->second.pids;
    pids.erase(std::remove(pids.begin(), pids.end(), pid), pids.end());
    it->second.on_exit();
}

}  // namespace damond
