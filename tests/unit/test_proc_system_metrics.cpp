#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "monitor/proc_system_metrics.hpp"
#include "temp_dir.hpp"

using namespace damond;
namespace fs = std::filesystem;

TEST(ProcSystemMetrics, ReadsRecordedProcAndSysFiles) {
    const damond::testing::TempDir dir;
    const fs::path root = dir.path();
    fs::create_directories(root / "proc/pressure");
    fs::create_directories(root / "sys/devices/system/node/node0");
    std::ofstream(root / "proc/meminfo") << "MemTotal:       24000000 kB\nMemFree:         6000000 kB\n"
                                            "Active:          3000000 kB\nInactive:        1000000 kB\n";
    std::ofstream(root / "proc/pressure/memory") << "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456\n"
                                                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=99\n";
    std::ofstream(root / "sys/devices/system/node/node0/meminfo") << "Node 0 MemTotal:       20000 kB\n"
                                                                     "Node 0 MemFree:         5000 kB\n";
    ProcSystemMetrics m(root.string());
    EXPECT_EQ(m.free_mem_rate(), 250u);  // per 1000
    EXPECT_EQ(m.some_mem_psi_total_us(), 123456u);
    QuotaGoal g;
    g.target_metric = GoalMetric::NodeMemFreeBp;
    EXPECT_EQ(m.goal_metric(g), 2500u);
    g.target_metric = GoalMetric::NodeMemUsedBp;
    EXPECT_EQ(m.goal_metric(g), 7500u);
    g.target_metric = GoalMetric::ActiveMemBp;
    EXPECT_EQ(m.goal_metric(g), 7500u);
    g.nid = 3;
    g.target_metric = GoalMetric::NodeMemFreeBp;
    EXPECT_FALSE(m.goal_metric(g));  // no such node
    fs::remove_all(root);            // gone files: no figure
    EXPECT_FALSE(ProcSystemMetrics(root.string()).free_mem_rate());
}
