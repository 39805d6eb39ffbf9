#include "sources/process_creds.hpp"

#include <sys/stat.h>

#include <fstream>
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
    const std::string dir = proc_root + "/" + std::to_string(pid);
    std::ifstream in(dir + "/status");
    if (!in) return std::nullopt;
    ProcessCreds c;
    bool have_uid = false, have_gid = false;
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
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
    c.dumpable = st.st_uid == c.euid && st.st_gid == c.egid;
    return c;
}

}  // namespace damond
