// The emulator's model against what the kernel does (mm/damon/sysfs*.c).
#include <gtest/gtest.h>

#include "damon_tree_model.hpp"

using namespace damond;
using namespace damond::emu;

namespace {

struct Emu {
    ManualClock clock;
    DamonTreeModel model;
    ModelTree tree{model};
    explicit Emu(const std::string& profile) : model(profile_named(profile), clock) {}

    int w(const std::string& path, const std::string& value) {
        int err = 0;
        model.write(path, value, err);
        return err;
    }
    std::string r(const std::string& path) { return tree.read(path); }

    // One kdamond, one paddr context over 64 MiB, one stat scheme for all.
    void setup_paddr(const std::string& k = "0") {
        const std::string c = "kdamonds/" + k + "/contexts/0/";
        EXPECT_EQ(w("kdamonds/" + k + "/contexts/nr_contexts", "1"), 0);
        EXPECT_EQ(w(c + "operations", "paddr"), 0);
        EXPECT_EQ(w(c + "monitoring_attrs/intervals/sample_us", "1000"), 0);
        EXPECT_EQ(w(c + "monitoring_attrs/intervals/aggr_us", "20000"), 0);
        EXPECT_EQ(w(c + "targets/nr_targets", "1"), 0);
        EXPECT_EQ(w(c + "targets/0/regions/nr_regions", "1"), 0);
        EXPECT_EQ(w(c + "targets/0/regions/0/start", "0"), 0);
        EXPECT_EQ(w(c + "targets/0/regions/0/end", std::to_string(64 << 20)), 0);
        EXPECT_EQ(w(c + "schemes/nr_schemes", "1"), 0);
    }
    void run_ms(uint64_t ms) { clock.advance(ms * 1000); }
    uint64_t nr_tried(const std::string& k = "0") {
        EXPECT_EQ(w("kdamonds/" + k + "/state", "update_schemes_stats"), 0);
        return std::stoull(r("kdamonds/" + k + "/contexts/0/schemes/0/stats/nr_tried"));
    }
};

}  // namespace

TEST(EmuTree, NrFilesMakeDirectoriesWithTheProfilesFiles) {
    Emu e("7.2");
    EXPECT_EQ(e.w("kdamonds/nr_kdamonds", "2"), 0);
    EXPECT_TRUE(e.model.is_dir("kdamonds/1"));
    EXPECT_EQ(e.r("kdamonds/0/state"), "off");
    EXPECT_EQ(e.w("kdamonds/0/contexts/nr_contexts", "1"), 0);
    EXPECT_TRUE(e.model.exists("kdamonds/0/contexts/0/pause"));
    EXPECT_EQ(e.w("kdamonds/0/contexts/nr_contexts", "2"), -EINVAL);
    EXPECT_EQ(e.w("kdamonds/nr_kdamonds", "1"), 0);
    EXPECT_FALSE(e.model.exists("kdamonds/1"));
    EXPECT_FALSE(e.model.exists("kdamonds/0/contexts/0"));  // a rewrite recreates them all

    Emu old("6.18");
    old.w("kdamonds/nr_kdamonds", "1");
    old.w("kdamonds/0/contexts/nr_contexts", "1");
    EXPECT_FALSE(old.model.exists("kdamonds/0/contexts/0/pause"));
    EXPECT_TRUE(old.model.exists("kdamonds/0/contexts/0/addr_unit"));
    EXPECT_FALSE(old.model.writable("kdamonds/0/pid"));
}

TEST(EmuTree, ValuesAreParsedAsTheKernelDoes) {
    Emu e("7.2");
    e.w("kdamonds/nr_kdamonds", "1");
    e.w("kdamonds/0/contexts/nr_contexts", "1");
    const std::string c = "kdamonds/0/contexts/0/";
    EXPECT_EQ(e.w(c + "monitoring_attrs/intervals/sample_us", "0x10"), 0);  // base 0
    EXPECT_EQ(e.w(c + "monitoring_attrs/intervals/sample_us", "ten"), -EINVAL);
    EXPECT_EQ(e.w(c + "pause", "on"), 0);
    EXPECT_EQ(e.r(c + "pause"), "Y");
    EXPECT_EQ(e.w(c + "pause", "maybe"), -EINVAL);
    EXPECT_EQ(e.w("kdamonds/0/pid", "5"), -EACCES);
}

TEST(EmuTree, OnOffAndNrKdamondsBusyWhileRunning) {
    Emu e("6.18");
    e.w("kdamonds/nr_kdamonds", "1");
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), -EINVAL);  // no context yet
    e.setup_paddr();
    EXPECT_EQ(e.w("kdamonds/0/state", "commit"), -EINVAL);  // not running
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), 0);
    EXPECT_EQ(e.r("kdamonds/0/state"), "on");
    EXPECT_NE(e.r("kdamonds/0/pid"), "-1");
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), -EBUSY);
    EXPECT_EQ(e.w("kdamonds/nr_kdamonds", "2"), -EBUSY);
    EXPECT_EQ(e.w("kdamonds/0/state", "off"), 0);
    EXPECT_EQ(e.r("kdamonds/0/pid"), "-1");
    EXPECT_EQ(e.w("kdamonds/nr_kdamonds", "2"), 0);
}

TEST(EmuTree, BadParametersFailOnAndCommitWithEinval) {
    Emu e("6.18");
    e.w("kdamonds/nr_kdamonds", "1");
    e.setup_paddr();
    const std::string c = "kdamonds/0/contexts/0/";
    e.w(c + "monitoring_attrs/nr_regions/min", "2");
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), -EINVAL);
    EXPECT_EQ(e.r("kdamonds/0/state"), "off");
    e.w(c + "monitoring_attrs/nr_regions/min", "10");
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), 0);
    e.w(c + "monitoring_attrs/intervals/sample_us", "999999");  // above aggr_us
    EXPECT_EQ(e.w("kdamonds/0/state", "commit"), -EINVAL);
    EXPECT_EQ(e.r("kdamonds/0/state"), "on");  // refused before touching the kdamond
}

TEST(EmuTree, AFailureInsideCommitStopsTheKdamond) {
    Emu e("6.18");
    e.w("kdamonds/nr_kdamonds", "1");
    e.setup_paddr();
    ASSERT_EQ(e.w("kdamonds/0/state", "on"), 0);
    const std::string s = "kdamonds/0/contexts/0/schemes/0/";
    e.w(s + "quotas/goals/nr_goals", "1");  // target_value stays 0
    EXPECT_EQ(e.w("kdamonds/0/state", "commit"), -EINVAL);
    EXPECT_EQ(e.r("kdamonds/0/state"), "off");
}

TEST(EmuTree, ExclusiveModulesMakeOnBusy) {
    Emu e("7.2");
    e.w("kdamonds/nr_kdamonds", "1");
    e.setup_paddr();
    e.w("_emu/module/damon_stat/parameters/enabled", "Y");
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), -EBUSY);
}

TEST(EmuTree, ARunningKdamondMonitorsAndReportsStatsAndTriedRegions) {
    Emu e("6.18");
    e.w("kdamonds/nr_kdamonds", "1");
    e.setup_paddr();
    ASSERT_EQ(e.w("kdamonds/0/state", "on"), 0);
    e.run_ms(500);
    EXPECT_GT(e.nr_tried(), 0u);
    ASSERT_EQ(e.w("kdamonds/0/state", "update_schemes_tried_regions"), 0);
    const std::string td = "kdamonds/0/contexts/0/schemes/0/tried_regions";
    EXPECT_EQ(e.r(td + "/total_bytes"), std::to_string(64 << 20));
    // The first eighth of the range is the simulated hot set.
    EXPECT_EQ(e.r(td + "/0/start"), "0");
    EXPECT_GT(std::stoul(e.r(td + "/0/nr_accesses")), 10u);
}

TEST(EmuTree, NativePauseStopsMonitoringAndCancelsWalks) {
    Emu e("7.2");
    e.w("kdamonds/nr_kdamonds", "1");
    e.setup_paddr();
    ASSERT_EQ(e.w("kdamonds/0/state", "on"), 0);
    e.run_ms(200);
    e.w("kdamonds/0/contexts/0/pause", "Y");
    ASSERT_EQ(e.w("kdamonds/0/state", "commit"), 0);
    const uint64_t at_pause = e.nr_tried();
    e.run_ms(1000);
    EXPECT_EQ(e.nr_tried(), at_pause);
    EXPECT_EQ(e.w("kdamonds/0/state", "update_schemes_tried_regions"), -ECANCELED);
    e.w("kdamonds/0/contexts/0/pause", "N");
    ASSERT_EQ(e.w("kdamonds/0/state", "commit"), 0);
    e.run_ms(200);
    EXPECT_GT(e.nr_tried(), at_pause);
}

TEST(EmuTree, WatermarkParkingOn618IsServedAndResumes) {
    Emu e("6.18");
    e.w("kdamonds/nr_kdamonds", "1");
    e.setup_paddr();
    ASSERT_EQ(e.w("kdamonds/0/state", "on"), 0);
    e.run_ms(200);
    const std::string wm = "kdamonds/0/contexts/0/schemes/0/watermarks/";
    e.w(wm + "metric", "free_mem_rate");
    e.w(wm + "interval_us", "100000");
    e.w(wm + "high", "0");
    e.w(wm + "mid", "0");
    e.w(wm + "low", "1000");
    ASSERT_EQ(e.w("kdamonds/0/state", "commit"), 0);
    e.run_ms(50);
    const uint64_t parked = e.nr_tried();
    e.run_ms(1000);
    EXPECT_EQ(e.nr_tried(), parked);
    e.w(wm + "metric", "none");
    ASSERT_EQ(e.w("kdamonds/0/state", "commit"), 0);  // served while parked
    e.run_ms(200);
    EXPECT_GT(e.nr_tried(), parked);
}

TEST(EmuTree, On612AParkedKdamondNeverServesACommitUntilOff) {
    Emu e("6.12");
    e.w("kdamonds/nr_kdamonds", "1");
    e.setup_paddr();
    ASSERT_EQ(e.w("kdamonds/0/state", "on"), 0);
    const std::string wm = "kdamonds/0/contexts/0/schemes/0/watermarks/";
    e.w(wm + "metric", "free_mem_rate");
    e.w(wm + "interval_us", "100000");
    e.w(wm + "low", "1000");
    ASSERT_EQ(e.w("kdamonds/0/state", "commit"), 0);  // parks
    e.w(wm + "metric", "none");
    int err = 0;
    EXPECT_EQ(e.model.write("kdamonds/0/state", "commit", err), WriteOutcome::Blocks);
    EXPECT_FALSE(e.model.write_released("kdamonds/0/state", err));
    EXPECT_EQ(e.w("kdamonds/0/state", "off"), 0);
    EXPECT_TRUE(e.model.write_released("kdamonds/0/state", err));
    EXPECT_EQ(err, 0);
}

TEST(EmuTree, FaultsHangsAndTheWriteLog) {
    Emu e("7.2");
    e.w("kdamonds/nr_kdamonds", "1");
    e.setup_paddr();
    e.w("_emu/fail", "0/state EBUSY 2");
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), -EBUSY);
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), -EBUSY);
    EXPECT_EQ(e.w("kdamonds/0/state", "on"), 0);
    e.w("_emu/fail", "sample_us EIO");
    EXPECT_EQ(e.w("kdamonds/0/contexts/0/monitoring_attrs/intervals/sample_us", "2000"), -EIO);
    e.w("_emu/hang", "0/state");
    int err = 0;
    EXPECT_EQ(e.model.write("kdamonds/0/state", "commit", err), WriteOutcome::Blocks);
    EXPECT_FALSE(e.model.write_released("kdamonds/0/state", err));
    const std::string log = e.r("_emu/log");
    EXPECT_NE(log.find("kdamonds/0/state on -> EBUSY"), std::string::npos) << log;
    EXPECT_NE(log.find("kdamonds/0/state on -> ok"), std::string::npos);
    EXPECT_EQ(log.find("_emu/"), std::string::npos);  // controls are not logged
}
