// Runs damond-workload as a child with pipes on stdin and stdout, and reads
// where its areas are. Closing stdin (or destruction) ends it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/addr_range.hpp"

namespace damond::testing {

class WorkloadProcess {
public:
    explicit WorkloadProcess(const std::vector<std::string>& args);
    ~WorkloadProcess();

    pid_t pid() const { return pid_; }
    AddrRange area(const std::string& name) const;
    // Closes stdin and waits for the exit status.
    int finish();

private:
    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    nlohmann::json layout_;
};

// Bytes of `field` ("Rss", "Referenced", ...) in the mapping that starts at `start`.
uint64_t smaps_field(pid_t pid, uint64_t start, const std::string& field);

}  // namespace damond::testing
