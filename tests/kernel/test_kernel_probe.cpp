#include <gtest/gtest.h>

#include "fake_tree_dir.hpp"
#include "kernel/kernel_probe.hpp"

using namespace damond;
using namespace damond::testing;

namespace {

KernelProbe probe(const FakeTreeDir& t, const std::string& release, std::set<uint32_t> owned = {}) {
    return probe_kernel(FsSysfsTree(t.root()), FsSysfsTree(t.modules()), release, owned);
}

}  // namespace

TEST(KernelProbe, The618TreeOfOurMachinesParksWithWatermarks) {
    FakeTreeDir t("6.18.44-fc-v595");
    t.add_kdamond("on", 77, "paddr", 1);  // like the host's, and not ours
    const KernelProbe p = probe(t, "6.18.44-fc-v595");
    EXPECT_TRUE(p.present);
    EXPECT_TRUE(p.writable);
    EXPECT_TRUE(p.features_known);
    for (const char* f : {"refresh_ms", "addr_unit", "intervals_goal", "core_filters", "ops_filters", "dests",
                          "quota_goals", "apply_interval_us", "target_nid", "tried_regions"})
        EXPECT_TRUE(p.features.count(f)) << f;
    for (const char* f : {"pause", "obsolete_target", "goal_tuner", "nr_snapshots", "probes", "fail_charge"})
        EXPECT_FALSE(p.features.count(f)) << f;
    ASSERT_EQ(p.kdamonds.size(), 1u);
    EXPECT_FALSE(p.kdamonds[0].ours);
    EXPECT_EQ(p.kdamonds[0].state, "on");
    EXPECT_EQ(p.kdamonds[0].pid, 77);
    EXPECT_EQ(p.kdamonds[0].ops, "paddr");
    EXPECT_TRUE(p.any_running());
    EXPECT_EQ(p.pause_mode, PauseMode::Watermarks);
    EXPECT_NE(p.pause_mode_reason.find("6.18"), std::string::npos) << p.pause_mode_reason;
}

TEST(KernelProbe, APauseFileMeansNativePause) {
    FakeTreeDir t("7.3.4");
    t.add_kdamond("off", -1, "vaddr", 0);
    const KernelProbe p = probe(t, "7.3.4", {0});
    EXPECT_TRUE(p.features.count("pause"));
    EXPECT_TRUE(p.features.count("obsolete_target"));
    EXPECT_EQ(p.pause_mode, PauseMode::Native);
    EXPECT_TRUE(p.kdamonds[0].ours);
    EXPECT_FALSE(p.any_running());
}

TEST(KernelProbe, KernelsWhereParkingNeverResumesCheckpoint) {
    for (const char* release : {"6.12.117-cloud-amd64", "6.1.0-27", "6.15.2", "6.16.0-rc3"}) {
        FakeTreeDir t(release);
        t.add_kdamond("off", -1, "paddr", 0);
        const KernelProbe p = probe(t, release);
        EXPECT_EQ(p.pause_mode, PauseMode::Checkpoint) << release;
        EXPECT_NE(p.pause_mode_reason.find("ages and access counts do not"), std::string::npos);
    }
    FakeTreeDir t("6.16.0-rc6");
    t.add_kdamond("off", -1, "paddr", 0);
    EXPECT_EQ(probe(t, "6.16.0-rc6").pause_mode, PauseMode::Watermarks);
}

TEST(KernelProbe, WithoutKdamondsTheVersionDecides) {
    FakeTreeDir t("7.3.4");
    const KernelProbe p = probe(t, "7.3.4");
    EXPECT_TRUE(p.present);
    EXPECT_FALSE(p.features_known);
    EXPECT_EQ(p.pause_mode, PauseMode::Native);
    EXPECT_TRUE(p.kdamonds.empty());
}

TEST(KernelProbe, NoTreeIsUnsupportedAndModulesAreSeen) {
    FakeTreeDir t("7.3.4");
    t.enable_module("damon_stat");
    const KernelProbe p = probe_kernel(FsSysfsTree(t.root() + "/missing"), FsSysfsTree(t.modules()), "7.3.4", {});
    EXPECT_FALSE(p.present);
    EXPECT_EQ(p.pause_mode, PauseMode::Unsupported);
    EXPECT_EQ(p.exclusive_modules_running, std::vector<std::string>{"damon_stat"});
}

TEST(KernelProbe, ReadsTheHostTreeWithoutWritingIt) {
    // Reading is allowed; the CI guard checks nothing changed.
    FsSysfsTree host(kDefaultSysfsRoot);
    if (!host.exists("kdamonds")) GTEST_SKIP() << "no DAMON sysfs tree on this machine";
    const KernelProbe p = probe_kernel(host, FsSysfsTree("/sys/module"), running_kernel_release(), {});
    EXPECT_TRUE(p.present);
    for (const KdamondInfo& k : p.kdamonds) EXPECT_FALSE(k.ours);
}

TEST(ForcePauseMode, OnlyWhatTheKernelCanDoAndTheReasonSaysSo) {
    KernelProbe native;
    native.present = true;
    native.pause_mode = PauseMode::Native;
    native.pause_mode_reason = "pause file";
    KernelProbe p = native;
    EXPECT_EQ(force_pause_mode(p, "auto"), "");
    EXPECT_EQ(p.pause_mode, PauseMode::Native);
    EXPECT_EQ(force_pause_mode(p, "watermarks"), "");
    EXPECT_EQ(p.pause_mode, PauseMode::Watermarks);
    EXPECT_NE(p.pause_mode_reason.find("forced by the config (kernel.pause_mode watermarks)"), std::string::npos);
    p = native;
    EXPECT_EQ(force_pause_mode(p, "checkpoint"), "");
    EXPECT_EQ(p.pause_mode, PauseMode::Checkpoint);

    KernelProbe old = native;  // 6.9-6.16-rc5: parking never resumes
    old.pause_mode = PauseMode::Checkpoint;
    old.pause_mode_reason = "parked kdamonds never resume";
    p = old;
    EXPECT_NE(force_pause_mode(p, "watermarks").find("never resumes"), std::string::npos);
    EXPECT_EQ(p.pause_mode, PauseMode::Checkpoint);  // nothing changed
    EXPECT_EQ(force_pause_mode(p, "native"), "this kernel has no pause file");
    EXPECT_NE(force_pause_mode(p, "sideways").find("unknown pause mode"), std::string::npos);
}
