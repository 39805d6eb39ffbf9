// The one way into the kernel's DAMON sysfs tree. Paths are relative to the
// tree's root (by default /sys/kernel/mm/damon/admin), e.g.
// "kdamonds/0/state". Nothing else in damond touches sysfs; tests hand the
// backend another tree.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

namespace damond {

// A failed read or write, with the file and the errno the kernel gave.
class SysfsError : public std::system_error {
public:
    SysfsError(int err, const std::string& path, const std::string& what)
        : std::system_error(err, std::generic_category(), what + " " + path), path_(path) {}
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

class SysfsTree {
public:
    virtual ~SysfsTree() = default;
    virtual bool exists(const std::string& path) const = 0;
    virtual bool is_dir(const std::string& path) const = 0;
    virtual bool writable(const std::string& path) const = 0;
    // Without the trailing newline. Throws SysfsError.
    virtual std::string read(const std::string& path) const = 0;
    // One write(2) of the whole value, as sysfs wants. Throws SysfsError.
    virtual void write(const std::string& path, const std::string& value) = 0;
    // Entry names of a directory, sorted; empty if it does not exist.
    virtual std::vector<std::string> list(const std::string& dir) const = 0;
};

// The file's value, or `fallback` if it cannot be read (EBUSY while another
// sysfs user holds the kernel's lock, a kdamond gone meanwhile, ...). A read
// that was given up (ETIMEDOUT, from a DeadlineTree) is no answer
// at all, and is thrown: the kdamond is in a state nobody knows.
inline std::string read_or(const SysfsTree& t, const std::string& path, const std::string& fallback) {
    try {
        return t.read(path);
    } catch (const SysfsError& e) {
        if (e.code().value() == ETIMEDOUT) throw;
        return fallback;
    }
}

// A tree on a real filesystem: the kernel's, or an emulator's mount.
class FsSysfsTree : public SysfsTree {
public:
    explicit FsSysfsTree(std::string root) : root_(std::move(root)) {}
    const std::string& root() const { return root_; }

    bool exists(const std::string& path) const override;
    bool is_dir(const std::string& path) const override;
    bool writable(const std::string& path) const override;
    std::string read(const std::string& path) const override;
    void write(const std::string& path, const std::string& value) override;
    std::vector<std::string> list(const std::string& dir) const override;

private:
    std::string full(const std::string& path) const { return path.empty() ? root_ : root_ + "/" + path; }
    std::string root_;
};

inline constexpr const char* kDefaultSysfsRoot = "/sys/kernel/mm/damon/admin";

}  // namespace damond
