#include "private_bus.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace damond::testing {

namespace {

const char* kAllowAll = R"(
  <policy context="default">
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>)";

// The default policy of Debian's /usr/share/dbus-1/system.conf.
const char* kSystemDefault = R"(
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>)";

}  // namespace

PrivateBus::PrivateBus(const std::string& policy_file, const std::string& service_dir) {
    // Other users must reach the socket for authorization tests.
    chmod(dir_.path().c_str(), 0755);
    const std::string policy =
        policy_file.empty() ? kAllowAll : std::string(kSystemDefault) + "\n  <include>" + policy_file + "</include>";
    const std::string conf =
        dir_.write("bus.conf", R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=)" + dir_.path() +
                                   R"(/bus</listen>
  <auth>EXTERNAL</auth>)" + (service_dir.empty() ? "" : "\n  <servicedir>" + service_dir + "</servicedir>") +
                                   policy + R"(
</busconfig>
)");
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> args = {"/usr/bin/dbus-daemon", "--config-file=" + conf, "--nofork", "--nopidfile",
                                     "--nosyslog",           "--print-address=3"};
    auto cargs = c_strings(args);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 3);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, cargs[0], &fa, nullptr, cargs.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) throw std::runtime_error(std::string("cannot start dbus-daemon: ") + strerror(rc));
    pollfd p{fds[0], POLLIN, 0};
    char buf[512] = {};
    if (poll(&p, 1, 10000) != 1 || read(fds[0], buf, sizeof buf - 1) <= 0)
        throw std::runtime_error("dbus-daemon printed no address");
    close(fds[0]);
    address_ = buf;
    address_.erase(address_.find_last_not_of("\n") + 1);
}

PrivateBus::~PrivateBus() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        wait_pid(pid_, 5000);
    }
}

std::vector<std::string> unit_capabilities() {
    const std::string unit = env_or("DAMOND_UNIT", "");
    if (unit.empty())
        throw std::runtime_error("DAMOND_UNIT is not set: the tests run damond with the unit's capabilities");
    std::istringstream in(read_file(unit));
    std::vector<std::string> caps;
    bool found = false;
    for (std::string line; std::getline(in, line);) {
        const std::string key = "CapabilityBoundingSet=";
        if (line.rfind(key, 0) != 0) continue;
        found = true;
        std::istringstream words(line.substr(key.size()));
        for (std::string cap; words >> cap;) {
            std::transform(cap.begin(), cap.end(), cap.begin(), [](unsigned char c) { return std::tolower(c); });
            if (cap.rfind("cap_", 0) == 0) cap = cap.substr(4);
            caps.push_back(cap);
        }
    }
    if (!found) throw std::runtime_error(unit + " has no CapabilityBoundingSet=");
    return caps;
}

std::vector<std::string> damond_command(std::vector<std::string> args) {
    std::string bounding = "-all";
    for (const auto& cap : unit_capabilities()) bounding += ",+" + cap;
    args.at(0) = env_or("DAMOND", "damond");
    // Inheritable and ambient sets cleared too: otherwise root's execve
    // would hand damond back what the bounding set just took away.
    std::vector<std::string> cmd{"/usr/bin/setpriv", "--bounding-set=" + bounding, "--inh-caps=-all",
                                 "--ambient-caps=-all", "--"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return cmd;
}

std::unique_ptr<Child> start_damond(const PrivateBus& bus, const std::string& config_path,
                                    const std::string& log_path) {
    auto damond = std::make_unique<Child>(
        damond_command({"damond", "--config", config_path}),
        std::map<std::string, std::string>{{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}}, log_path);
    const bool up = wait_until(
        [&] {
            return run_command(
                       {env_or("BUSCTL", "/usr/bin/busctl"), "--address=" + bus.address(), "status", "org.damond1"})
                       .exit_code == 0;
        },
        15000);
    if (!up) return nullptr;
    return damond;
}

}  // namespace damond::testing
