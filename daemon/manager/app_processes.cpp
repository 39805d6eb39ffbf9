#include "manager/app_processes.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

namespace damond {

std::vector<uint32_t> pids_in_cgroup(const std::string& cgroup_dir) {
    std::vector<uint32_t> out;
    std::ifstream in(cgroup_dir + "/cgroup.procs");
    uint64_t pid = 0;
    while (in >> pid)
        if (pid > 0 && pid <= UINT32_MAX) out.push_back(static_cast<uint32_t>(pid));
    return out;
}

std::vector<uint32_t> pids_running_exe(const std::string& exe, const std::string& proc_root) {
    std::vector<uint32_t> out;
    DIR* dir = opendir(proc_root.c_str());
    if (!dir) return out;
    static const std::string kDeleted = " (deleted)";
    while (dirent* e = readdir(dir)) {
        const std::string name = e->d_name;
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
            continue;
        char buf[4096];
        const ssize_t n = readlink((proc_root + "/" + name + "/exe").c_str(), buf, sizeof buf - 1);
        if (n <= 0) continue;  // a kernel thread, or gone already
        std::string target(buf, static_cast<size_t>(n));
        if (target.size() > kDeleted.size() &&
            target.compare(target.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
            target.resize(target.size() - kDeleted.size());
        if (target == exe) out.push_back(static_cast<uint32_t>(std::stoul(name)));
    }
    closedir(dir);
    std::sort(out.begin(), out.end());
    return out;
}

uid_t uid_of_cgroup(const std::string& cgroup_dir) {
    static const std::regex user(R"(^(?:user-(\d{1,10})\.slice|user@(\d{1,10})\.service|uid_(\d{1,10}))$)");
    std::vector<std::string> parts;
    std::stringstream in(cgroup_dir);
    for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        std::smatch m;
        if (!std::regex_match(*it, m, user)) continue;
        for (size_t i = 1; i < m.size(); ++i)
            if (m[i].matched) {
                const unsigned long uid = std::stoul(m[i].str());
                if (uid < UINT32_MAX) return static_cast<uid_t>(uid);
            }
    }
    return 0;
}

}  // namespace damond
