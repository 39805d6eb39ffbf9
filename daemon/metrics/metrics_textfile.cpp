#include "metrics/metrics_textfile.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace damond {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw std::system_error(errno, std::generic_category(), what + " " + path);
}

}  // namespace

void MetricsTextfile::write(const std::string& text) const {
    const std::string tmp = path_ + ".tmp";
    // 0644: the node exporter runs as its own user and must read it.
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) fail("cannot create", tmp);
    // Whatever the umask (the unit's is 0077): the collector must read it.
    if (::fchmod(fd, 0644) != 0) {
        const int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        errno = e;
        fail("cannot make readable", tmp);
    }
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            errno = e;
            fail("cannot write", tmp);
        }
        done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        fail("cannot write", tmp);
    }
    if (::rename(tmp.c_str(), path_.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        fail("cannot rename onto", path_);
    }
}

void MetricsTextfile::remove() const {
    ::unlink(path_.c_str());
    ::unlink((path_ + ".tmp").c_str());
}

}  // namespace damond
