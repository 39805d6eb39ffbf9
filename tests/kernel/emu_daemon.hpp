// damond on damon-sysfs-emu mounted for real, for the tests that drive
// the kernel backend over D-Bus: the emulator as a child process, and damond
// pointed at it on a private bus.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "emulator.hpp"
#include "private_bus.hpp"

extern char** environ;

namespace damond::testing {

// A config with one paddr context, "kdemo".
inline const char* kConfig = R"({"backend": "kernel", "contexts": {"kdemo": {
  "ops": "paddr", "intervals": {"sample_us": 2000, "aggr_us": 40000},
  "targets": [{"regions": [{"start": 16777216, "end": 1073741824}]}],
  "schemes": [{"action": "stat", "access_pattern": {"age": {"min": 10}},
               "watermarks": {"metric": "free_mem_rate", "interval_us": 7000, "high": 950, "mid": 900, "low": 5}}]}}})";

// `extra`: more arguments after the defaults (a later one wins).
struct Damond {
    std::shared_ptr<PrivateBus> own_bus;
    PrivateBus& bus;
    TempDir dir;
    std::unique_ptr<Child> child;

    // `state_dir`: "" for one of its own; two Damonds given the same one are
    // a damond and its restart.
    // `on_bus`: another Damond's bus, for a restart its clients stay on.
    Damond(const Emulator& emu, const std::string& backend, bool expect_up = true, const std::string& config = kConfig,
           const std::string& state_dir = "", PrivateBus* on_bus = nullptr, std::vector<std::string> extra = {})
        : own_bus(on_bus ? nullptr : std::make_shared<PrivateBus>()), bus(on_bus ? *on_bus : *own_bus) {
        std::vector<std::string> args{"damond",
                                      "--config",
                                      dir.write("c.json", config),
                                      "--backend",
                                      backend,
                                      "--sysfs-root",
                                      emu.dir(),
                                      "--modules-root",
                                      emu.dir() + "/_emu/module",
                                      "--kernel-release",
                                      emu.release(),
                                      "--state-dir",
                                      state_dir.empty() ? dir.path() + "/state" : state_dir,
                                      "--state-deadline-ms",
                                      "1500"};
        args.insert(args.end(), extra.begin(), extra.end());
        child = std::make_unique<Child>(damond_command(args),
                                        std::map<std::string, std::string>{{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}},
                                        dir.path() + "/log");
        if (expect_up)
            up = wait_until([&] { return busctl({"status", "org.damond1"}).exit_code == 0; }, 10000);
        else
            exit_code = child->wait_exit(10000);
    }
    ~Damond() {
        if (child->pid() <= 0) return;  // reaped already (killed by the test)
        child->signal(SIGTERM);
        child->wait_exit(10000);
    }
    int exit_code = -1;
    CommandResult busctl(std::vector<std::string> args) {
        args.insert(args.begin(), {env_or("BUSCTL", "/usr/bin/busctl"), "--address=" + bus.address()});
        return run_command(args);
    }
    std::string get(const std::string& path, const std::string& iface, const std::string& prop) {
        return busctl({"get-property", "org.damond1", path, iface, prop}).out;
    }
    CommandResult manager(const std::string& method, const std::string& arg) {
        return busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", method, "s", arg});
    }
    std::string log() { return read_file(dir.path() + "/log"); }
    bool up = false;
};

}  // namespace damond::testing
