#include "sources/page_cgroups.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace damond {

PageCgroups::PageCgroups(std::string path) : path_(std::move(path)), fd_(::open(path_.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_.get() < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path_);
}

std::vector<uint64_t> PageCgroups::inodes(const std::vector<uint64_t>& pfns) const {
    std::vector<uint64_t> out(pfns.size(), 0);
    for (size_t i = 0; i < pfns.size(); ++i) {
        // Runs of neighbouring frames in one read: a region's samples are
        // often a few pages apart, and each read is a system call.
        size_t j = i;
        while (j + 1 < pfns.size() && pfns[j + 1] == pfns[j] + 1 && j + 1 - i < 512) ++j;
        const size_t n = j - i + 1;
        const ssize_t got =
            ::pread(fd_.get(), &out[i], n * sizeof(uint64_t), static_cast<off_t>(pfns[i] * sizeof(uint64_t)));
        if (got < static_cast<ssize_t>(n * sizeof(uint64_t)))
            for (size_t k = got > 0 ? static_cast<size_t>(got) / sizeof(uint64_t) : 0; k < n; ++k) out[i + k] = 0;
        i = j;
    }
    return out;
}

}  // namespace damond
