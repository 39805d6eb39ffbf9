// What the backend knows about the machine, for the Manager's properties
// (KernelFeatures, PauseMode, Kdamonds) in plain types: the manager and the
// bus need not know how the kernel's tree is read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace damond {

struct KdamondFact {
    uint32_t index = 0;
    bool ours = false;
    std::string state;  // on | off | "" if unreadable
    int32_t pid = -1;
    std::string ops;  // the first context's operations, "" if none
};

struct BackendFacts {
    std::vector<std::string> features;
    std::string pause_mode = "unsupported";
    std::string pause_mode_reason;
    std::vector<KdamondFact> kdamonds;
};

}  // namespace damond
