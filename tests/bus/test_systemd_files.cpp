// The files in systemd/ as meson configures them for installation: the
// unit passes systemd-analyze (verify, and security with an exposure of at
// most 3.0), and the activation file starts damond on the first call to
// org.damond1 on a bus that has it in its <servicedir>. Exec paths are
// pointed at the build, since nothing is installed.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "caller_authorizer.hpp"
#include "damond_proxies.hpp"
#include "private_bus.hpp"

using namespace damond::testing;

namespace {

// The configured file with its damond command line pointed at the build's
// binary, and its --config at `config` if given. (No std::regex: GCC 12
// warns inside it under the sanitizers.)
std::string pointed_at_build(const std::string& configured, const std::string& config = "") {
    const std::string text = read_file(configured);
    EXPECT_FALSE(text.empty()) << "cannot read " << configured;
    std::istringstream in(text);
    std::string out, line;
    while (std::getline(in, line)) {
        for (const std::string key : {"ExecStart=", "Exec="}) {
            if (line.rfind(key, 0) != 0) continue;
            const size_t args = line.find(' ');  // after the binary
            std::string rest = args == std::string::npos ? "" : line.substr(args);
            if (!config.empty()) {
                const size_t c = rest.find("--config ");
                if (c != std::string::npos) {
                    const size_t end = rest.find(' ', c + 9);
                    rest =
                        rest.substr(0, c) + "--config " + config + (end == std::string::npos ? "" : rest.substr(end));
                }
            }
            line = key + env_or("DAMOND", "damond") + rest;
            break;
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace

TEST(SystemdFiles, TheUnitVerifiesCleanAndIsExposedAtMost3) {
    TempDir dir;
    const std::string unit = dir.write("damond.service", pointed_at_build(env_or("DAMOND_UNIT", "damond.service")));
    const CommandResult verify = run_command({"systemd-analyze", "verify", unit});
    EXPECT_EQ(verify.exit_code, 0) << verify.out;
    EXPECT_EQ(verify.out, "") << "systemd-analyze verify warned";

    const CommandResult security = run_command({"systemd-analyze", "security", "--offline=yes", unit});
    EXPECT_EQ(security.exit_code, 0) << security.out;
    const std::string label = "Overall exposure level for damond.service: ";
    const size_t at = security.out.find(label);
    ASSERT_NE(at, std::string::npos) << security.out;
    const double exposure = std::stod(security.out.substr(at + label.size()));
    std::cout << "exposure " << exposure << "\n";
    EXPECT_LE(exposure, 3.0) << security.out;
}

TEST(SystemdFiles, TheFirstCallToOrgDamond1ActivatesDamond) {
    TempDir services, conf;
    // The installed file names the installed config; this one a config of the test's.
    const std::string activation = pointed_at_build(env_or("DAMOND_ACTIVATION", "org.damond1.service"),
                                                    conf.write("damond.json", R"({"backend": "inprocess"})"));
    services.write("org.damond1.service", activation);
    PrivateBus bus("", services.path());
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);

    const std::string busctl = env_or("BUSCTL", "/usr/bin/busctl");
    // Nobody owns the name yet; the call below starts damond and is answered by it.
    EXPECT_NE(run_command({busctl, "--address=" + bus.address(), "status", "org.damond1"}).exit_code, 0);
    const CommandResult call = run_command({busctl, "--address=" + bus.address(), "call", "org.damond1", "/org/damond1",
                                            "org.damond1.Manager", "ListContexts"});
    EXPECT_EQ(call.exit_code, 0) << call.out;
    EXPECT_EQ(call.out, "a(sos) 0\n");
    const CommandResult pid =
        run_command({busctl, "--address=" + bus.address(), "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                     "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s", "org.damond1"});
    ASSERT_EQ(pid.exit_code, 0) << pid.out;
    const pid_t damond = static_cast<pid_t>(std::stol(pid.out.substr(2)));
    ASSERT_GT(damond, 1);
    EXPECT_NE(read_file("/proc/" + std::to_string(damond) + "/cmdline").find("damond"), std::string::npos);
    ::kill(damond, SIGTERM);
    EXPECT_TRUE(wait_until([&] { return ::kill(damond, 0) != 0; }));
}

// `meson install` with the build's own prefix (/usr/local unless set): the
// files the system's daemons read land where they look, whatever the
// prefix, and the sysusers file creates the group the docs name.
TEST(SystemdFiles, AnInstallPutsBusPolkitAndSysusersFilesWhereTheirReadersLook) {
    const std::string build = env_or("DAMOND_BUILD_ROOT", "");
    ASSERT_FALSE(build.empty()) << "DAMOND_BUILD_ROOT is not set";
    TempDir dest;
    const CommandResult install =
        run_command({"meson", "install", "-C", build, "--destdir", dest.path(), "--no-rebuild", "--quiet"});
    ASSERT_EQ(install.exit_code, 0) << install.out;
    for (const std::string path :
         {"/usr/share/dbus-1/system.d/org.damond1.conf", "/usr/share/dbus-1/system-services/org.damond1.service",
          "/usr/share/polkit-1/actions/org.damond1.policy", "/usr/lib/sysusers.d/damond.conf",
          "/lib/systemd/system/damond.service"}) {
        struct stat st {};
        EXPECT_EQ(::stat((dest.path() + path).c_str(), &st), 0) << path << " is not installed";
    }
    // An /etc with root alone, as a fresh system has.
    std::filesystem::create_directories(dest.path() + "/etc");
    dest.write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    dest.write("etc/group", "root:x:0:\n");
    const CommandResult sysusers =
        run_command({"systemd-sysusers", "--root=" + dest.path(), dest.path() + "/usr/lib/sysusers.d/damond.conf"});
    EXPECT_EQ(sysusers.exit_code, 0) << sysusers.out;
    EXPECT_NE(read_file(dest.path() + "/etc/group").find("\ndamond:x:"), std::string::npos)
        << read_file(dest.path() + "/etc/group");
}

// Every polkit action damond asks about is declared, and the access rules'
// grants default to an administrator's word: they lift the kernel's own rule.
TEST(SystemdFiles, ThePolkitPolicyDeclaresEveryActionDamondAsksAbout) {
    const std::string dir = std::filesystem::path(env_or("DAMOND_POLICY", "systemd/org.damond1.conf")).parent_path();
    const std::string policy = read_file(dir + "/org.damond1.policy");
    for (const damond::BusAction a :
         {damond::BusAction::Pause, damond::BusAction::SetAppState, damond::BusAction::Configure})
        EXPECT_NE(policy.find(std::string("<action id=\"") + damond::polkit_action_id(a) + "\">"), std::string::npos)
            << damond::polkit_action_id(a);
    for (const damond::Grant g :
         {damond::Grant::MonitorOthers, damond::Grant::MonitorSystem, damond::Grant::ReadOthers}) {
        const std::string id = damond::polkit_action_id(g);
        const size_t at = policy.find("<action id=\"" + id + "\">");
        ASSERT_NE(at, std::string::npos) << id;
        const std::string action = policy.substr(at, policy.find("</action>", at) - at);
        for (const char* who : {"allow_any", "allow_inactive", "allow_active"})
            EXPECT_NE(action.find(std::string("<") + who + ">auth_admin</" + who + ">"), std::string::npos)
                << id << " " << who;
    }
}
