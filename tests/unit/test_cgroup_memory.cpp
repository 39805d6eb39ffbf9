// Memory by cgroup: regions shared out by sampled pages' owners, the
// cgroups found in a cgroupfs, and kpagecgroup read by page frame.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "temp_dir.hpp"

#include "manager/system_stat.hpp"
#include "monitor/cgroup_memory.hpp"
#include "sources/cgroup_targets.hpp"
#include "sources/page_cgroups.hpp"

using namespace damond;
using damond::testing::TempDir;

namespace {

constexpr uint64_t kPage = 4096;

SnapshotRegion region(uint64_t start_page, uint64_t pages, uint32_t accesses, uint32_t age) {
    SnapshotRegion r;
    r.start = start_page * kPage;
    r.end = (start_page + pages) * kPage;
    r.last_nr_accesses = accesses;
    r.age = age;
    return r;
}

uint64_t inode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_ino;
}

}  // namespace

// Pages 0-99 hot (accessed), 100-399 idle 2 s (warm), 400-999 idle 100 s
// (cold); cgroup 0 owns pages 0-49 and 400-699, cgroup 1 pages 100-399,
// nobody the rest. Aggregations of 100 ms.
TEST(CgroupMemory, RegionsAreSharedOutBySampledOwners) {
    MonitorSnapshot s;
    s.aggr_us = 100000;
    s.targets = {{region(0, 100, 3, 4), region(100, 300, 0, 19), region(400, 600, 0, 999)}};
    std::vector<uint64_t> asked;
    auto lookup = [&](const std::vector<uint64_t>& pfns) {
        std::vector<int> out;
        for (uint64_t p : pfns) {
            asked.push_back(p);
            out.push_back(p < 50 || (p >= 400 && p < 700) ? 0 : p >= 100 && p < 400 ? 1 : -1);
        }
        return out;
    };
    const CgroupMemory m = cgroup_memory(s, 2, {1000, 60000}, 100, kPage, lookup);
    ASSERT_EQ(m.bytes.size(), 2u);
    EXPECT_EQ(m.sampled_pages, 300u);
    EXPECT_EQ(m.bytes[0], (CgroupBytes{50 * kPage, 0, 300 * kPage}));
    EXPECT_EQ(m.bytes[1], (CgroupBytes{0, 300 * kPage, 0}));
    // Spread over each region: its first and last slices both sampled.
    EXPECT_EQ(asked.front(), 0u);
    EXPECT_EQ(asked[99], 99u);
    EXPECT_LT(asked.back(), 1000u);
    EXPECT_GE(asked.back(), 994u);
}

TEST(CgroupMemory, FewerSamplesThanPagesStillShareTheWholeRegion) {
    MonitorSnapshot s;
    s.aggr_us = 100000;
    s.targets = {{region(0, 1000, 0, 999)}};  // cold
    // cgroup 0 owns the first quarter.
    auto lookup = [](const std::vector<uint64_t>& pfns) {
        std::vector<int> out;
        for (uint64_t p : pfns) out.push_back(p < 250 ? 0 : -1);
        return out;
    };
    const CgroupMemory m = cgroup_memory(s, 1, {}, 8, kPage, lookup);
    EXPECT_EQ(m.sampled_pages, 8u);
    EXPECT_EQ(m.bytes[0], (CgroupBytes{0, 0, 250 * kPage}));  // 2 of 8 samples
}

TEST(CgroupMemory, NothingWithoutCgroupsOrAggregation) {
    MonitorSnapshot s;
    s.targets = {{region(0, 10, 1, 1)}};
    int calls = 0;
    auto lookup = [&](const std::vector<uint64_t>& pfns) {
        ++calls;
        return std::vector<int>(pfns.size(), 0);
    };
    EXPECT_TRUE(cgroup_memory(s, 0, {}, 8, kPage, lookup).bytes.empty());
    EXPECT_EQ(calls, 0);
    // An accessed region with no aggregation interval yet is hot (idle 0 ms < warm).
    const CgroupMemory m = cgroup_memory(s, 1, {}, 8, kPage, lookup);
    EXPECT_EQ(m.bytes[0], (CgroupBytes{10 * kPage, 0, 0}));
}

TEST(CgroupTargets, DefaultsAreSystemServicesAndUserSlicesWithTheirSubtrees) {
    TempDir root;
    namespace fs = std::filesystem;
    for (const char* d : {"system.slice/cron.service", "system.slice/dbus.service/sub", "system.slice/a.mount",
                          "system.slice/system-getty.slice", "user.slice/user-1000.slice/user@1000.service/app.slice",
                          "user.slice/other", "init.scope"})
        fs::create_directories(root.path() + "/" + d);
    const CgroupTargets t = find_cgroup_targets(root.path(), {}, 32);
    EXPECT_EQ(t.paths, (std::vector<std::string>{"/system.slice/cron.service", "/system.slice/dbus.service",
                                                 "/user.slice/user-1000.slice"}));
    EXPECT_EQ(t.left_out, 0u);
    EXPECT_EQ(t.owner_of(inode_of(root.path() + "/system.slice/dbus.service/sub")), 1);
    EXPECT_EQ(t.owner_of(inode_of(root.path() + "/user.slice/user-1000.slice/user@1000.service/app.slice")), 2);
    EXPECT_EQ(t.owner_of(inode_of(root.path() + "/system.slice")), -1);
    EXPECT_EQ(t.owner_of(inode_of(root.path() + "/init.scope")), -1);

    const CgroupTargets two = find_cgroup_targets(root.path(), {}, 2);
    EXPECT_EQ(two.paths.size(), 2u);
    EXPECT_EQ(two.left_out, 1u);
}

TEST(CgroupTargets, ConfiguredPathsThatExistAndTheDeepestHolderWins) {
    TempDir root;
    std::filesystem::create_directories(root.path() + "/user.slice/user-1000.slice/app");
    const CgroupTargets t =
        find_cgroup_targets(root.path(), {"/user.slice/user-1000.slice", "/user.slice", "/gone.service"}, 32);
    EXPECT_EQ(t.paths, (std::vector<std::string>{"/user.slice/user-1000.slice", "/user.slice"}));
    EXPECT_EQ(t.owner_of(inode_of(root.path() + "/user.slice/user-1000.slice/app")), 0);
    EXPECT_EQ(t.owner_of(inode_of(root.path() + "/user.slice")), 1);
}

TEST(PageCgroups, ReadsOneInodePerFrameAndZeroPastTheEnd) {
    TempDir dir;
    std::vector<uint64_t> table(600);
    for (size_t i = 0; i < table.size(); ++i) table[i] = 1000 + i;
    const std::string path = dir.path() + "/kpagecgroup";
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(table.data()), table.size() * 8);
    const PageCgroups pages(path);
    // A run of neighbours longer than one read, a lone frame, one past the end.
    std::vector<uint64_t> pfns;
    for (uint64_t p = 10; p < 560; ++p) pfns.push_back(p);
    pfns.push_back(3);
    pfns.push_back(700);
    const std::vector<uint64_t> got = pages.inodes(pfns);
    ASSERT_EQ(got.size(), pfns.size());
    for (size_t i = 0; i + 2 < pfns.size(); ++i) ASSERT_EQ(got[i], 1000 + pfns[i]) << i;
    EXPECT_EQ(got[got.size() - 2], 1003u);
    EXPECT_EQ(got.back(), 0u);
    EXPECT_THROW(PageCgroups(dir.path() + "/none"), std::system_error);
}

// From the kernel's probes: hits of aggr/sample samples say each cgroup's
// share of a region; a count past the samples (a tuned interval moved) is
// the whole region.
TEST(CgroupMemory, ProbeHitsShareOutRegions) {
    MonitorSnapshot s;
    s.sample_us = 5000;
    s.aggr_us = 100000;  // 20 samples
    SnapshotRegion hot = region(0, 100, 3, 4);
    hot.probe_hits = {5, 0};
    SnapshotRegion cold = region(100, 200, 0, 999);
    cold.probe_hits = {0, 25};
    SnapshotRegion none = region(300, 100, 0, 999);  // no hits read (a kernel without probes)
    s.targets = {{hot, cold, none}};
    const CgroupMemory m = cgroup_memory_from_probes(s, 2, {1000, 60000});
    EXPECT_EQ(m.bytes[0], (CgroupBytes{25 * kPage, 0, 0}));
    EXPECT_EQ(m.bytes[1], (CgroupBytes{0, 0, 200 * kPage}));
    MonitorSnapshot unknown = s;
    unknown.sample_us = 0;
    EXPECT_EQ(cgroup_memory_from_probes(unknown, 2, {}).bytes[0], CgroupBytes{});
}

// Probes where they count every cgroup named: 7.2+, named, at most 4,
// nothing below them; kpagecgroup otherwise, saying why (unless probes were
// asked for: then none, saying why).
TEST(SystemCgroups, PlanTakesProbesOnlyWhereTheyCountEverything) {
    TempDir root;
    for (const char* d : {"system.slice/a.service", "system.slice/b.service/sub"})
        std::filesystem::create_directories(root.path() + "/" + d);
    SystemCgroupsConfig c;
    c.paths = {"/system.slice/a.service"};
    CgroupsPlan p = plan_cgroups(c, true, root.path());  // auto
    EXPECT_EQ(p.method, "probes");
    EXPECT_EQ(p.probe_paths, c.paths);
    ASSERT_EQ(probes_for(p.probe_paths).size(), 1u);
    EXPECT_EQ(probes_for(p.probe_paths)[0].filters[0].memcg_path, "/system.slice/a.service");
    EXPECT_EQ(probes_for(p.probe_paths)[0].filters[0].type, FilterType::Memcg);

    EXPECT_EQ(plan_cgroups(c, false, root.path()).method, "kpagecgroup");
    EXPECT_NE(plan_cgroups(c, false, root.path()).why.find("Linux 7.2+"), std::string::npos);
    c.paths.push_back("/system.slice/b.service");
    p = plan_cgroups(c, true, root.path());
    EXPECT_EQ(p.method, "kpagecgroup");
    EXPECT_NE(p.why.find("/system.slice/b.service has cgroups below it"), std::string::npos) << p.why;
    c.method = "probes";
    EXPECT_EQ(plan_cgroups(c, true, root.path()).method, "unavailable");
    c.method = "kpagecgroup";
    EXPECT_EQ(plan_cgroups(c, true, root.path()).method, "kpagecgroup");
    SystemCgroupsConfig defaults;  // discovered: kpagecgroup
    defaults.method = "probes";
    EXPECT_EQ(plan_cgroups(defaults, true, root.path()).method, "unavailable");
    defaults.method = "auto";
    EXPECT_EQ(plan_cgroups(defaults, true, root.path()).method, "kpagecgroup");
    defaults.enabled = false;
    EXPECT_EQ(plan_cgroups(defaults, true, root.path()).method, "off");
}
