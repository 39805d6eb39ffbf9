#include "kernel/kernel_version.hpp"

#include <sys/utsname.h>

#include <cstdio>

namespace damond {

std::string KernelVersion::to_string() const {
    return std::to_string(major) + "." + std::to_string(minor) + (rc ? "-rc" + std::to_string(rc) : "");
}

std::optional<KernelVersion> parse_kernel_release(const std::string& release) {
    KernelVersion v;
    if (std::sscanf(release.c_str(), "%d.%d", &v.major, &v.minor) != 2) return std::nullopt;
    const auto rc = release.find("-rc");
    if (rc != std::string::npos) std::sscanf(release.c_str() + rc + 3, "%d", &v.rc);
    return v;
}

std::string running_kernel_release() {
    utsname u{};
    return ::uname(&u) == 0 ? u.release : "";
}

}  // namespace damond
