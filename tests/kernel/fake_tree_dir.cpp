#include "fake_tree_dir.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "kernel/sysfs_layout.hpp"

namespace fs = std::filesystem;

namespace damond::testing {

FakeTreeDir::FakeTreeDir(const std::string& release) {
    base_ = dir_.path();
    root_ = base_ + "/admin";
    modules_ = base_ + "/module";
    const auto v = parse_kernel_release(release);
    if (!v) throw std::runtime_error("bad release " + release);
    version_ = *v;
    fs::create_directories(root_ + "/kdamonds");
    make_file(root_, "kdamonds/nr_kdamonds", "0", true);
    for (const char* m : {"damon_stat", "damon_reclaim", "damon_lru_sort"}) {
        fs::create_directories(modules_ + "/" + m + "/parameters");
        std::ofstream(modules_ + "/" + m + "/parameters/enabled") << "N\n";
    }
}

FakeTreeDir::~FakeTreeDir() = default;

void FakeTreeDir::make_file(const std::string& dir, const char* path, const std::string& value, bool writable) const {
    const fs::path p = fs::path(dir) / path;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << value << "\n";
    chmod(p.c_str(), writable ? 0600 : 0400);
}

void FakeTreeDir::add_kdamond(const std::string& state, int pid, const std::string& ops, int nr_schemes) {
    const std::string kd = root_ + "/kdamonds/" + std::to_string(nr_kdamonds_++);
    for (const SysfsFile& f : sysfs_files_of(SysfsLevel::Kdamond, version_))
        make_file(kd, f.path, f.initial, f.writable);
    set("kdamonds/nr_kdamonds", std::to_string(nr_kdamonds_));
    const std::string rel = kd.substr(root_.size() + 1);
    set(rel + "/state", state);
    set(rel + "/pid", std::to_string(pid));
    set(rel + "/contexts/nr_contexts", "1");
    const std::string ctx = kd + "/contexts/0";
    for (const SysfsFile& f : sysfs_files_of(SysfsLevel::Context, version_))
        make_file(ctx, f.path, f.initial, f.writable);
    set(rel + "/contexts/0/operations", ops);
    set(rel + "/contexts/0/targets/nr_targets", "1");
    for (const SysfsFile& f : sysfs_files_of(SysfsLevel::Target, version_))
        make_file(ctx + "/targets/0", f.path, f.initial, f.writable);
    set(rel + "/contexts/0/schemes/nr_schemes", std::to_string(nr_schemes));
    for (int s = 0; s < nr_schemes; ++s)
        for (const SysfsFile& f : sysfs_files_of(SysfsLevel::Scheme, version_))
            make_file(ctx + "/schemes/" + std::to_string(s), f.path, f.initial, f.writable);
}

void FakeTreeDir::set(const std::string& path, const std::string& value) const {
    const std::string p = root_ + "/" + path;
    struct stat st {};
    const bool exists = stat(p.c_str(), &st) == 0;
    if (exists) chmod(p.c_str(), 0600);
    std::ofstream(p) << value << "\n";
    if (exists) chmod(p.c_str(), st.st_mode & 07777);
}

void FakeTreeDir::enable_module(const std::string& module) const {
    std::ofstream(modules_ + "/" + module + "/parameters/enabled") << "Y\n";
}

}  // namespace damond::testing
