#include "sources/cgroup_targets.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

namespace damond {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Subdirectories of root/dir whose names pass `keep`, as "/dir/name", sorted.
std::vector<std::string> children(const std::string& root, const std::string& dir, bool (*keep)(const std::string&)) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(root + dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (it->is_directory(ec) && keep(name)) out.push_back(dir + "/" + name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool is_service(const std::string& name) { return ends_with(name, ".service"); }
bool is_user_slice(const std::string& name) { return name.rfind("user-", 0) == 0 && ends_with(name, ".slice"); }

void map_tree(const std::string& dir, int index, std::unordered_map<uint64_t, int>& by_inode) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return;
    by_inode[st.st_ino] = index;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
        if (::stat(it->path().c_str(), &st) == 0) by_inode[st.st_ino] = index;
    }
}

}  // namespace

int CgroupTargets::owner_of(uint64_t inode) const {
    const auto it = by_inode.find(inode);
    return it == by_inode.end() ? -1 : it->second;
}

CgroupTargets find_cgroup_targets(const std::string& root, const std::vector<std::string>& configured, size_t max) {
    std::vector<std::string> found;
    if (configured.empty()) {
        found = children(root, "/system.slice", is_service);
        for (std::string& p : children(root, "/user.slice", is_user_slice)) found.push_back(std::move(p));
    } else {
        std::error_code ec;
        for (const std::string& p : configured)
            if (fs::is_directory(root + p, ec)) found.push_back(p);
    }
    CgroupTargets out;
    for (const std::string& p : found) {
        if (out.paths.size() == max)
            ++out.left_out;
        else
            out.paths.push_back(p);
    }
    // Shallower first: a page counts once, for the deepest target holding it.
    std::vector<size_t> order(out.paths.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::count(out.paths[a].begin(), out.paths[a].end(), '/') <
               std::count(out.paths[b].begin(), out.paths[b].end(), '/');
    });
    for (size_t i : order) map_tree(root + out.paths[i], static_cast<int>(i), out.by_inode);
    return out;
}

}  // namespace damond
