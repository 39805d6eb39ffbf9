#include "base/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "base/unique_fd.hpp"

namespace damond {

void write_file_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        const UniqueFd fd = checked_fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), tmp);
        const bool ok =
            ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd.get()) == 0;
        if (!ok) throw std::system_error(errno, std::generic_category(), tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::system_error(errno, std::generic_category(), path);
    // The rename itself is durable only once the directory is.
    const std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
    const UniqueFd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.valid()) ::fsync(dfd.get());
}

void make_private_directory(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw std::system_error(ec, path);
    // Not through a symlink someone put there: the directory itself.
    const UniqueFd fd = checked_fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), path);
    if (::fchmod(fd.get(), 0700) != 0) throw std::system_error(errno, std::generic_category(), path);
}

}  // namespace damond
