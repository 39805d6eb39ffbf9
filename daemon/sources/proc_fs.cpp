#include "sources/proc_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "base/unique_fd.hpp"

namespace damond {

namespace {

UniqueFd open_file(const std::string& path, int flags) {
    return checked_fd(::open(path.c_str(), flags | O_CLOEXEC), path);
}

}  // namespace

bool ProcFs::exists(const std::string& p) const {
    struct stat st {};
    return ::stat(path(p).c_str(), &st) == 0;
}

bool ProcFs::writable(const std::string& p) const { return ::access(path(p).c_str(), W_OK) == 0; }

std::optional<std::string> ProcFs::read_text(const std::string& p) const {
    std::ifstream in(path(p));
    if (!in) return std::nullopt;
    std::stringstream s;
    s << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return s.str();
}

void ProcFs::write_text(const std::string& p, const std::string& text) const {
    const UniqueFd fd = open_file(path(p), O_WRONLY);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw std::system_error(errno, std::generic_category(), path(p));
}

uint64_t ProcFs::pread_u64(const std::string& p, uint64_t offset) const {
    const UniqueFd fd = open_file(path(p), O_RDONLY);
    uint64_t v = 0;
    const ssize_t n = ::pread(fd.get(), &v, sizeof v, static_cast<off_t>(offset));
    if (n != static_cast<ssize_t>(sizeof v))
        throw std::system_error(n < 0 ? errno : EIO, std::generic_category(), path(p));
    return v;
}

void ProcFs::pwrite_u64(const std::string& p, uint64_t offset, uint64_t value) const {
    const UniqueFd fd = open_file(path(p), O_WRONLY);
    if (::pwrite(fd.get(), &value, sizeof value, static_cast<off_t>(offset)) != static_cast<ssize_t>(sizeof value))
        throw std::system_error(errno, std::generic_category(), path(p));
}

std::optional<uint64_t> process_stat_field(uint32_t pid, int field_number) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!pid || !std::getline(in, line)) return std::nullopt;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const size_t close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    for (int i = 3; i <= field_number && fields >> field; ++i)
        if (i == field_number) return std::stoull(field);
    return std::nullopt;
}

std::optional<uint64_t> process_start_time(uint32_t pid) { return process_stat_field(pid, 22); }

}  // namespace damond
