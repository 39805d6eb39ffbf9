#pragma once

#include <optional>
#include <string>

namespace damond {

struct KernelVersion {
    int major = 0;
    int minor = 0;
    int rc = 0;  // 0 for a release, N for -rcN
    // Compare releases; an -rc comes before its release.
    bool at_least(int ma, int mi) const { return major > ma || (major == ma && minor >= mi); }
    std::string to_string() const;
};

// "6.18.44-fc-v595" -> 6.18; "6.16.0-rc3" -> 6.16-rc3; nullopt if unreadable.
std::optional<KernelVersion> parse_kernel_release(const std::string& release);

// uname's release of the running kernel.
std::string running_kernel_release();

}  // namespace damond
