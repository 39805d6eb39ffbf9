// Test fixtures that run real processes: a private system-type dbus-daemon
// and the damond binary on it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <string>
#include <vector>

namespace damond::testing {

// A temporary directory removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::string& path() const { return path_; }
    std::string write(const std::string& name, const std::string& content) const;

private:
    std::string path_;
};

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

// dbus-daemon with <type>system</type> and a temp socket. Without a policy
// file it allows everything; with one, it denies like Debian's system bus
// and includes that file, as /usr/share/dbus-1/system.d would.
class PrivateBus {
public:
    // `service_dir`: a <servicedir> of activation files, "" for none.
    explicit PrivateBus(const std::string& policy_file = "", const std::string& service_dir = "");
    ~PrivateBus();
    const std::string& address() const { return address_; }

private:
    TempDir dir_;
    pid_t pid_ = -1;
    std::string address_;
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

// The damond binary ($DAMOND) with `--config config_path` on `bus`, its
// output in `log_path`; returns once it owns org.damond1, or nullptr
// if it did not within 15 s.
// damond's command line as the shipped unit runs it: `args` (args[0] is
// replaced by $DAMOND) behind `setpriv`, limited to the unit's
// CapabilityBoundingSet ($DAMOND_UNIT), so a test sees what the unit forbids.
std::vector<std::string> damond_command(std::vector<std::string> args);
// The unit's CapabilityBoundingSet as setpriv names them ("sys_nice", ...).
std::vector<std::string> unit_capabilities();

std::unique_ptr<Child> start_damond(const PrivateBus& bus, const std::string& config_path, const std::string& log_path);

}  // namespace damond::testing
