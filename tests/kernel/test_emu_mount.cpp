// damon-sysfs-emu mounted for real, used through damond's FsSysfsTree and
// probe: the same I/O path as the kernel's sysfs.
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "emulator.hpp"
#include "kernel/kernel_probe.hpp"
#include "kernel/sysfs_tree.hpp"

using namespace damond;
using damond::testing::Emulator;

namespace {

void setup_paddr(SysfsTree& t) {
    t.write("kdamonds/nr_kdamonds", "1");
    t.write("kdamonds/0/contexts/nr_contexts", "1");
    const std::string c = "kdamonds/0/contexts/0/";
    t.write(c + "operations", "paddr");
    t.write(c + "targets/nr_targets", "1");
    t.write(c + "targets/0/regions/nr_regions", "1");
    t.write(c + "targets/0/regions/0/start", "0");
    t.write(c + "targets/0/regions/0/end", "67108864");
}

}  // namespace

TEST(EmuMount, ServesTheTreeThroughTheFilesystem) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    Emulator m("7.2");
    ASSERT_TRUE(m.up());
    FsSysfsTree t(m.dir());
    setup_paddr(t);
    EXPECT_FALSE(t.writable("kdamonds/0/pid"));
    t.write("kdamonds/0/state", "on");
    EXPECT_EQ(t.read("kdamonds/0/state"), "on");
    try {
        t.write("kdamonds/nr_kdamonds", "2");
        FAIL() << "nr_kdamonds changed while a kdamond runs";
    } catch (const SysfsError& e) {
        EXPECT_EQ(e.code().value(), EBUSY);
    }

    const KernelProbe p = probe_kernel(t, FsSysfsTree(m.dir() + "/_emu/module"), "7.2.0", {0});
    EXPECT_TRUE(p.present);
    EXPECT_TRUE(p.features.count("pause"));
    EXPECT_EQ(p.pause_mode, PauseMode::Native);
    ASSERT_EQ(p.kdamonds.size(), 1u);
    EXPECT_TRUE(p.kdamonds[0].ours);
    EXPECT_EQ(p.kdamonds[0].ops, "paddr");
    EXPECT_NE(t.read("_emu/log").find("kdamonds/0/state on -> ok"), std::string::npos);
}

TEST(EmuMount, AHungWriteBlocksOnlyItsWriter) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    Emulator m("6.18");
    ASSERT_TRUE(m.up());
    FsSysfsTree t(m.dir());
    setup_paddr(t);
    t.write("kdamonds/0/state", "on");
    t.write("_emu/hang", "0/state");
    std::atomic<bool> returned{false};
    std::thread writer([&] {
        try {
            t.write("kdamonds/0/state", "commit");
        } catch (const SysfsError&) {
        }
        returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(returned);
    EXPECT_EQ(t.read("kdamonds/0/state"), "on");  // everything else still answers
    m.stop();                                     // unmounting ends the stuck request
    writer.join();
    EXPECT_TRUE(returned);
}
