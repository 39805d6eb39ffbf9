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

#include "../bus/private_bus.hpp"

extern char** environ;

namespace damond::testing {

class Emulator {
public:
    explicit Emulator(const std::string& profile) : profile_(profile) {
        char tmpl[] = "/tmp/damond-emu-XXXXXX";
        dir_ = mkdtemp(tmpl);
        std::vector<std::string> args{env_or("DAMON_SYSFS_EMU", "damon-sysfs-emu"), "--profile", profile, dir_};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ);
        wait_until([&] { return std::filesystem::exists(dir_ + "/kdamonds/nr_kdamonds"); }, 5000);
    }
    ~Emulator() { stop(); }
    // Ends the emulator: writes and reads stuck in it return ENOTCONN.
    void stop() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
        if (dir_.empty()) return;
        umount2(dir_.c_str(), MNT_DETACH);
        rmdir(dir_.c_str());
        dir_.clear();
    }
    const std::string& dir() const { return dir_; }
    std::string release() const { return profile_ + ".0"; }
    std::string log() const { return read_file(dir_ + "/_emu/log"); }
    void put(const std::string& path, const std::string& value) const {
        const auto r = run_command({"/bin/sh", "-c", "printf '%s' '" + value + "' > " + dir_ + "/" + path});
        EXPECT_EQ(r.exit_code, 0) << path << ": " << r.out;
    }

private:
    std::string profile_, dir_;
    pid_t pid_ = -1;
};

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
        std::vector<std::string> args{"damond", "--config", dir.write("c.json", config), "--backend",
                                      backend, "--sysfs-root", emu.dir(), "--modules-root", emu.dir() + "/_emu/module",
                                      "--kernel-release", emu.release(), "--state-dir",
                                      state_dir.empty() ? dir.path() + "/state" : state_dir, "--state-deadline-ms", "1500"};
        args.insert(args.end(), extra.begin(), extra.end());
        child = std::make_unique<Child>(
            damond_command(args),
            std::map<std::string, std::string>{{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}}, dir.path() + "/log");
        if (expect_up) up = wait_until([&] { return busctl({"status", "org.damond1"}).exit_code == 0; }, 10000);
        else exit_code = child->wait_exit(10000);
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
