#include "kernel/sysfs_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/unique_fd.hpp"

namespace damond {

bool FsSysfsTree::exists(const std::string& path) const {
    struct stat st {};
    return ::stat(full(path).c_str(), &st) == 0;
}

bool FsSysfsTree::is_dir(const std::string& path) const {
    struct stat st {};
    return ::stat(full(path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool FsSysfsTree::writable(const std::string& path) const {
    // Mode bits, not access(2): root passes access() for 0400 files too, and
    // sysfs marks the read-only files 0400.
    struct stat st {};
    return ::stat(full(path).c_str(), &st) == 0 && (st.st_mode & S_IWUSR);
}

std::string FsSysfsTree::read(const std::string& path) const {
    const UniqueFd fd(::open(full(path).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) throw SysfsError(errno, path, "cannot open");
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) throw SysfsError(errno, path, "cannot read");
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

void FsSysfsTree::write(const std::string& path, const std::string& value) {
    const UniqueFd fd(::open(full(path).c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) throw SysfsError(errno, path, "cannot open");
    const ssize_t n = ::write(fd.get(), value.data(), value.size());
    const int err = errno;
    if (n < 0) throw SysfsError(err, path, "cannot write '" + value + "' to");
    if (static_cast<size_t>(n) != value.size()) throw SysfsError(EIO, path, "short write of '" + value + "' to");
}

std::vector<std::string> FsSysfsTree::list(const std::string& dir) const {
    std::vector<std::string> out;
    DIR* d = ::opendir(full(dir).c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace damond
