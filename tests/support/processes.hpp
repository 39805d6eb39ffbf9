// Running programs from tests: children with their own environment and
// log, commands with their output, and waiting for conditions.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace damond::testing {

// A child process with its own environment additions; killed if still
// running at destruction.
class Child {
public:
    Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
          const std::string& log_path);
    ~Child();
    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    // Waits up to `timeout_ms`; returns the exit status, or -1 on timeout.
    int wait_exit(int timeout_ms);

private:
    pid_t pid_ = -1;
};

struct CommandResult {
    int exit_code = -1;
    std::string out;  // stdout and stderr together
};

CommandResult run_command(const std::vector<std::string>& argv);
std::string read_file(const std::string& path);

// The environment variable, or `fallback` when it is unset.
std::string env_or(const char* name, const char* fallback);

// Polls `pred` every 10 ms until it holds or `timeout_ms` has passed.
template <typename Pred>
bool wait_until(Pred pred, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

// argv/envp for exec from strings that outlive the call (null-terminated).
std::vector<char*> c_strings(std::vector<std::string>& v);

// Waits up to `timeout_ms` for `pid` (a child) to exit: its exit status
// (128 + signal if killed), -1 on timeout, -2 if it is not our child.
int wait_pid(pid_t pid, int timeout_ms);

}  // namespace damond::testing
