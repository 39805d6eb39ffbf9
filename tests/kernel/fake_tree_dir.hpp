// A DAMON sysfs tree of a given kernel version laid out as plain files in a
// temporary directory: enough for code that only looks (the probe), not for
// code that needs the kernel to react to writes.
#pragma once

#include <string>

#include "kernel/kernel_version.hpp"
#include "kernel/sysfs_tree.hpp"

#include "temp_dir.hpp"

namespace damond::testing {

class FakeTreeDir {
public:
    explicit FakeTreeDir(const std::string& release);
    ~FakeTreeDir();

    const std::string& root() const { return root_; }        // the admin directory
    const std::string& modules() const { return modules_; }  // stands for /sys/module
    // A kdamond with one context of `ops`, `nr_schemes` schemes and one target.
    void add_kdamond(const std::string& state, int pid, const std::string& ops, int nr_schemes);
    void set(const std::string& path, const std::string& value) const;  // relative to root()
    void enable_module(const std::string& module) const;

private:
    void make_file(const std::string& dir, const char* path, const std::string& value, bool writable) const;

    TempDir dir_;
    std::string base_, root_, modules_;
    KernelVersion version_;
    int nr_kdamonds_ = 0;
};

}  // namespace damond::testing
