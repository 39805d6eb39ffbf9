#include "emulator.hpp"

#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "processes.hpp"

extern char** environ;

namespace damond::testing {

Emulator::Emulator(const std::string& profile) : profile_(profile) {
    char tmpl[] = "/tmp/damond-emu-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::vector<std::string> args{env_or("DAMON_SYSFS_EMU", "damon-sysfs-emu"), "--profile", profile, dir_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    wait_until([&] { return up(); }, 5000);
}

void Emulator::stop() {
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

bool Emulator::up() const { return !dir_.empty() && std::filesystem::exists(dir_ + "/kdamonds/nr_kdamonds"); }

std::string Emulator::log() const { return read_file(dir_ + "/_emu/log"); }

void Emulator::put(const std::string& path, const std::string& value) const {
    const auto r = run_command({"/bin/sh", "-c", "printf '%s' '" + value + "' > " + dir_ + "/" + path});
    EXPECT_EQ(r.exit_code, 0) << path << ": " << r.out;
}

}  // namespace damond::testing
