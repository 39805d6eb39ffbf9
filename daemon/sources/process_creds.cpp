#include "sources/process_creds.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

namespace damond {

namespace {

// "Uid:\t1000\t1000\t1000\t1000": real, effective, saved, filesystem.
bool read_ids(const std::string& line, unsigned& real, unsigned& effective, unsigned& saved) {
    std::istringstream in(line.substr(line.find(':') + 1));
    return static_cast<bool>(in >> real >> effective >> saved);
}

}  // namespace

std::optional<ProcessCreds> read_process_creds(uint32_t pid, const std::string& proc_root) {
    const std::string path = proc_root + "/" + std::to_string(pid) + "/status";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    // The owner of the file as opened: the kernel gives a process's /proc
    // files to root while it is not dumpable (/proc/<pid> itself keeps its
    // owner on recent kernels), and to its effective ids otherwise.
    struct stat st {};
    std::string text;
    char buf[4096];
    bool ok = ::fstat(fd, &st) == 0;
    for (ssize_t n; ok && (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0)
            ok = false;
        else
            text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    if (!ok) return std::nullopt;
    ProcessCreds c;
    bool have_uid = false, have_gid = false;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        unsigned a = 0, b = 0, s = 0;
        if (line.rfind("Uid:", 0) == 0 && read_ids(line, a, b, s)) {
            c.uid = a, c.euid = b, c.suid = s;
            have_uid = true;
        } else if (line.rfind("Gid:", 0) == 0 && read_ids(line, a, b, s)) {
            c.gid = a, c.egid = b, c.sgid = s;
            have_gid = true;
        }
    }
    if (!have_uid || !have_gid) return std::nullopt;
    // A process running as root looks dumpable here either way: nobody but
    // root passes the uid check on it, and root needs no dumpable bit.
    c.dumpable = st.st_uid == c.euid && st.st_gid == c.egid;
    return c;
}

}  // namespace damond
