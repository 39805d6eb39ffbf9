// A private system-type dbus-daemon for tests, and the damond binary on it
// the way the shipped unit runs it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "processes.hpp"
#include "temp_dir.hpp"

namespace damond::testing {

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
