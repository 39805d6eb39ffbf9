// damond's kernel backend over D-Bus, on damon-sysfs-emu mounted for real:
// the production path from busctl to the sysfs files.
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
#include <sdbus-c++/sdbus-c++.h>
#include <nlohmann/json.hpp>

#include "emu_daemon.hpp"
#include "private_bus.hpp"

using namespace damond::testing;
using nlohmann::json;

extern char** environ;

namespace {

// The staged files of kdamond 0, as the filesystem shows them.
std::map<std::string, std::string> staged(const Emulator& emu) {
    std::map<std::string, std::string> out;
    const std::string base = emu.dir() + "/kdamonds/0/contexts";
    for (const auto& e : std::filesystem::recursive_directory_iterator(base)) {
        if (!e.is_regular_file() ||
            (e.status().permissions() & std::filesystem::perms::owner_write) == std::filesystem::perms::none)
            continue;
        out[e.path().string()] = read_file(e.path().string());
    }
    return out;
}

}  // namespace

class KernelBackendBus : public ::testing::TestWithParam<const char*> {};

TEST_P(KernelBackendBus, CreatePauseResumeCommitStop) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    const std::string profile = GetParam();
    Emulator emu(profile);
    Damond d(emu, "kernel");
    ASSERT_TRUE(d.up) << d.log();
    EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "Backend"), "s \"kernel\"\n");
    const std::string ctx = "/org/damond1/context/kdemo";
    EXPECT_EQ(d.get(ctx, "org.damond1.Context", "State"), "s \"running\"\n") << d.log();
    EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/state"), "on\n");

    const auto before = staged(emu);
    const size_t mark = emu.log().size();
    auto r = d.manager("PauseContext", "kdemo");
    if (profile == "6.1" || profile == "6.12") {
        // A parked kdamond never serves the resuming commit there: pause is a
        // checkpoint (regions kept, kdamond off), and nothing is ever parked.
        // 6.1 cannot report regions, and its reason says nothing survives.
        ASSERT_EQ(r.exit_code, 0) << r.out << d.log();
        EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "PauseMode"), "s \"checkpoint\"\n");
        const std::string reason = d.get("/org/damond1", "org.damond1.Manager", "PauseModeReason");
        if (profile == "6.1")
            EXPECT_NE(reason.find("nothing of the trained state"), std::string::npos) << reason;
        else
            EXPECT_EQ(reason.find("nothing of the trained state"), std::string::npos) << reason;
        EXPECT_EQ(d.get(ctx, "org.damond1.Context", "State"), "s \"paused\"\n");
        EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/state"), "off\n");
        EXPECT_EQ(emu.log().substr(mark).find("watermarks"), std::string::npos) << emu.log().substr(mark);
        r = d.manager("ResumeContext", "kdemo");
        ASSERT_EQ(r.exit_code, 0) << r.out;
        EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/state"), "on\n");
    } else {
        ASSERT_EQ(r.exit_code, 0) << r.out << d.log();
        EXPECT_EQ(d.get(ctx, "org.damond1.Context", "State"), "s \"paused\"\n");
        const std::string during = emu.log().substr(mark);
        if (profile == "7.2") {
            EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "PauseMode"), "s \"native\"\n");
            EXPECT_NE(during.find("contexts/0/pause Y -> ok"), std::string::npos) << during;
            EXPECT_EQ(during.find("watermarks"), std::string::npos) << during;
        } else {
            EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "PauseMode"), "s \"watermarks\"\n");
            EXPECT_NE(during.find("watermarks/high 0 -> ok"), std::string::npos) << during;
        }
        r = d.manager("ResumeContext", "kdemo");
        ASSERT_EQ(r.exit_code, 0) << r.out;
        EXPECT_EQ(staged(emu), before);  // watermarks restored, nothing left behind
    }

    r = d.busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "CommitContext", "ss", "kdemo",
                  R"({"intervals": {"aggr_us": 80000}})"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us"), "80000\n");
    const std::string pid = read_file(emu.dir() + "/kdamonds/0/pid");
    EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/state"), "on\n");  // online: same kdamond

    // A commit the kernel refuses leaves the last good spec staged. 6.15+
    // keep the kdamond; older kernels end it, and damond starts it again.
    emu.put("_emu/refuse_commit", "1");
    const auto good = staged(emu);
    r = d.busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "CommitContext", "ss", "kdemo",
                  R"({"intervals": {"aggr_us": 60000}})"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(staged(emu), good);
    EXPECT_NE(d.get(ctx, "org.damond1.Context", "LastError"), "s \"\"\n");
    EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/state"), "on\n");
    EXPECT_EQ(d.get(ctx, "org.damond1.Context", "State"), "s \"running\"\n");
    if (profile == "6.1" || profile == "6.12")
        EXPECT_NE(read_file(emu.dir() + "/kdamonds/0/pid"), pid);
    else
        EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/pid"), pid);

    r = d.manager("RemoveContext", "kdemo");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/state"), "off\n");
}

INSTANTIATE_TEST_SUITE_P(Profiles, KernelBackendBus, ::testing::Values("6.1", "6.12", "6.18", "7.2"));

TEST(KernelBackendForeign, AForeignKdamondIsNeverWrittenAndAutoFallsBack) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    Emulator emu("7.2");
    // Someone else's running kdamond.
    emu.put("kdamonds/nr_kdamonds", "1");
    emu.put("kdamonds/0/contexts/nr_contexts", "1");
    emu.put("kdamonds/0/contexts/0/operations", "paddr");
    emu.put("kdamonds/0/contexts/0/targets/nr_targets", "1");
    emu.put("kdamonds/0/state", "on");
    const size_t mark = emu.log().size();
    {
        Damond d(emu, "auto");
        ASSERT_TRUE(d.up) << d.log();
        EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "Backend"), "s \"inprocess\"\n");
        EXPECT_NE(d.get("/org/damond1", "org.damond1.Manager", "BackendReason").find("is not damond"),
                  std::string::npos);
    }
    {
        // Backend kernel stays up, and every context it is asked for fails
        // with Busy naming the foreign kdamond.
        Damond d(emu, "kernel");
        ASSERT_TRUE(d.up) << d.log();
        EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "Backend"), "s \"kernel\"\n");
        EXPECT_EQ(d.busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "ListContexts"}).out,
                  "a(sos) 0\n");
        PrivateBus& bus = d.bus;
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
        const auto r = d.busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "CreateContext", "ss",
                                 "k", R"({"ops": "paddr", "targets": [{"regions": []}]})"});
        EXPECT_NE(r.exit_code, 0);
        EXPECT_NE(r.out.find("kdamond 0 (pid"), std::string::npos) << r.out;
        // The journal entry follows the reply.
        EXPECT_TRUE(wait_until([&] { return d.log().find("backend 'kernel': kdamond 0") != std::string::npos; }, 2000))
            << d.log();
    }
    EXPECT_EQ(emu.log().substr(mark), "");  // damond wrote nothing at all
}

TEST(KernelBackendModules, AnExclusiveModuleIsTurnedOffOnlyWhenTheConfigSaysSo) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    Emulator emu("7.2");
    emu.put("_emu/module/damon_stat/parameters/enabled", "Y");
    {
        Damond d(emu, "auto");
        ASSERT_TRUE(d.up) << d.log();
        EXPECT_NE(d.get("/org/damond1", "org.damond1.Manager", "BackendReason").find("damon_stat runs exclusively"),
                  std::string::npos);
    }
    EXPECT_EQ(read_file(emu.dir() + "/_emu/module/damon_stat/parameters/enabled"), "Y\n");
    std::string config = kConfig;
    config.insert(1, R"("damon_modules": "disable", )");
    const std::string enabled = emu.dir() + "/_emu/module/damon_stat/parameters/enabled";
    TempDir state;
    {
        Damond d(emu, "auto", true, config, state.path());
        ASSERT_TRUE(d.up) << d.log();
        EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "Backend"), "s \"kernel\"\n");
        EXPECT_EQ(read_file(enabled), "N\n");
    }
    // A plain stop keeps the kdamond running for the next start: the module
    // could not run beside it and stays off.
    EXPECT_EQ(read_file(enabled), "N\n");
    EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/state"), "on\n");
    {
        Damond d(emu, "auto", true, config, state.path());
        ASSERT_TRUE(d.up) << d.log();
        EXPECT_NE(d.log().find("DAMON module damon_stat was left off by an earlier run"), std::string::npos) << d.log();
        // Release(): DAMON handed back, the module on, damond gone.
        const CommandResult r = d.busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "Release"});
        EXPECT_EQ(r.exit_code, 0) << r.out;
        EXPECT_EQ(d.child->wait_exit(10000), 0) << d.log();
        EXPECT_EQ(read_file(enabled), "Y\n") << d.log();
        EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/state"), "off\n");
    }
}

// The shipped config's "damon_stat" takes DAMON from DAMON_STAT alone: a
// reclaim or lru_sort module runs because an administrator turned it on, and
// stays on (the backend then says which module stands in the way), and so
// does DAMON_STAT, which could give way for nothing.
TEST(KernelBackendModules, DamonStatAloneLeavesReclaimOn) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    Emulator emu("7.2");
    emu.put("_emu/module/damon_stat/parameters/enabled", "Y");
    emu.put("_emu/module/damon_reclaim/parameters/enabled", "Y");
    std::string config = kConfig;
    config.insert(1, R"("damon_modules": "damon_stat", "system_stat": false, )");
    {
        Damond d(emu, "auto", true, config);
        ASSERT_TRUE(d.up) << d.log();
        EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "Backend"), "s \"inprocess\"\n");
        EXPECT_NE(d.get("/org/damond1", "org.damond1.Manager", "BackendReason")
                      .find("modules damon_stat and damon_reclaim run exclusively"),
                  std::string::npos);
        EXPECT_EQ(read_file(emu.dir() + "/_emu/module/damon_reclaim/parameters/enabled"), "Y\n");
        // Not turned off for nothing: reclaim would still hold DAMON.
        EXPECT_EQ(read_file(emu.dir() + "/_emu/module/damon_stat/parameters/enabled"), "Y\n");
    }
    emu.put("_emu/module/damon_reclaim/parameters/enabled", "N");
    Damond d(emu, "auto", true, config);
    ASSERT_TRUE(d.up) << d.log();
    EXPECT_EQ(d.get("/org/damond1", "org.damond1.Manager", "Backend"), "s \"kernel\"\n");
    EXPECT_EQ(read_file(emu.dir() + "/_emu/module/damon_stat/parameters/enabled"), "N\n");
}

// The biggest System RAM range of /sys/firmware/memmap, [start, end): what
// the stand-in watches (kernel/system_ram.hpp, read here on its own).
std::optional<std::pair<uint64_t, uint64_t>> biggest_system_ram() {
    std::optional<std::pair<uint64_t, uint64_t>> best;
    for (const auto& e : std::filesystem::directory_iterator("/sys/firmware/memmap")) {
        auto text = [&](const char* f) {
            std::string v = read_file(e.path().string() + "/" + f);
            while (!v.empty() && v.back() == '\n') v.pop_back();
            return v;
        };
        if (text("type") != "System RAM") continue;
        const uint64_t start = std::stoull(text("start"), nullptr, 16), end = std::stoull(text("end"), nullptr, 16) + 1;
        if (!best || end - start > best->second - best->first) best = std::make_pair(start, end);
    }
    return best;
}

// DAMON_STAT turned off is DAMON_STAT served: a context like the module's
// runs on a kdamond of damond's, and its figures are on the bus.
TEST(KernelBackendModules, DamonStatTurnedOffIsServedByAStandIn) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    if (access("/sys/firmware/memmap", R_OK) != 0) GTEST_SKIP() << "no /sys/firmware/memmap";
    Emulator emu("7.2");
    emu.put("_emu/module/damon_stat/parameters/enabled", "Y");
    std::string config = kConfig;
    config.insert(1, R"("damon_modules": "damon_stat", )");  // the shipped config's
    // Memory by cgroup from a cgroupfs and a kpagecgroup of the test's: the
    // lower half of the watched range charged to one service, the upper
    // half to the other (a sparse file up to the range's end).
    TempDir cg;
    std::filesystem::create_directories(cg.path() + "/cgroup/system.slice/low.service");
    std::filesystem::create_directories(cg.path() + "/cgroup/system.slice/high.service/sub");
    const std::optional<std::pair<uint64_t, uint64_t>> ram = biggest_system_ram();
    ASSERT_TRUE(ram);
    {
        struct stat low {
        }, high{};
        ASSERT_EQ(stat((cg.path() + "/cgroup/system.slice/low.service").c_str(), &low), 0);
        ASSERT_EQ(stat((cg.path() + "/cgroup/system.slice/high.service/sub").c_str(), &high), 0);
        const uint64_t first = ram->first / 4096, last = (ram->second - 1) / 4096, middle = first + (last - first) / 2;
        std::FILE* f = std::fopen((cg.path() + "/kpagecgroup").c_str(), "wb");
        ASSERT_NE(f, nullptr);
        std::vector<uint64_t> chunk;
        for (uint64_t pfn = first; pfn <= last; pfn += chunk.size()) {
            chunk.assign(std::min<uint64_t>(65536, last - pfn + 1), 0);
            for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = pfn + i < middle ? low.st_ino : high.st_ino;
            ASSERT_EQ(fseeko(f, static_cast<off_t>(pfn * 8), SEEK_SET), 0);
            ASSERT_EQ(std::fwrite(chunk.data(), 8, chunk.size(), f), chunk.size());
        }
        std::fclose(f);
    }
    Damond d(emu, "kernel", true, config, "", nullptr,
             {"--cgroup-root", cg.path() + "/cgroup", "--kpagecgroup", cg.path() + "/kpagecgroup"});
    ASSERT_TRUE(d.up) << d.log();
    EXPECT_EQ(read_file(emu.dir() + "/_emu/module/damon_stat/parameters/enabled"), "N\n");
    EXPECT_TRUE(wait_until(
        [&] {
            return d.get("/org/damond1/context/system_2dstat", "org.damond1.Context", "State") == "s \"running\"\n";
        },
        10000))
        << d.log();
    EXPECT_EQ(d.get("/org/damond1/context/system_2dstat", "org.damond1.Context", "Backend"), "s \"kernel\"\n");
    json stat;
    EXPECT_TRUE(wait_until(
        [&] {
            const CommandResult r = d.busctl(
                {"--json=short", "get-property", "org.damond1", "/org/damond1", "org.damond1.Manager", "SystemStat"});
            if (r.exit_code != 0) return false;
            stat = json::parse(r.out)["data"];
            return stat.contains("idle_ms_percentiles");
        },
        15000))
        << d.log();
    ASSERT_TRUE(stat.contains("idle_ms_percentiles")) << stat.dump();
    EXPECT_EQ(stat["context"]["data"], "system-stat");
    const json& p = stat["idle_ms_percentiles"]["data"];
    ASSERT_EQ(p.size(), 101u);
    for (size_t i = 1; i < p.size(); ++i) EXPECT_LE(p[i - 1].get<int64_t>(), p[i].get<int64_t>()) << i;
    EXPECT_GT(stat["aggr_interval_us"]["data"].get<uint64_t>(), 0u);

    // The same as metrics series and in damonctl status.
    const CommandResult metrics =
        d.busctl({"--json=short", "call", "org.damond1", "/org/damond1", "org.damond1.Manager", "Metrics", "s", ""});
    ASSERT_EQ(metrics.exit_code, 0) << metrics.out;
    const std::string text = json::parse(metrics.out)["data"][0].get<std::string>();
    EXPECT_NE(text.find("damond_system_idle_seconds{percentile=\"50\"}"), std::string::npos) << text;
    EXPECT_NE(text.find("damond_system_memory_bandwidth_bytes "), std::string::npos) << text;
    const CommandResult status = run_command(
        {"/usr/bin/env", "DBUS_SYSTEM_BUS_ADDRESS=" + d.bus.address(), env_or("DAMONCTL", "damonctl"), "status"});
    EXPECT_EQ(status.exit_code, 0) << status.out;
    EXPECT_NE(status.out.find("DAMON_STAT's figures (from context system-stat): idle p50 "), std::string::npos)
        << status.out;

    // Memory by cgroup: each service half of what the context watches.
    EXPECT_EQ(stat["cgroups_method"]["data"], "kpagecgroup");
    const CommandResult cgroups = d.busctl(
        {"--json=short", "get-property", "org.damond1", "/org/damond1", "org.damond1.Manager", "SystemCgroups"});
    ASSERT_EQ(cgroups.exit_code, 0) << cgroups.out;
    const json list = json::parse(cgroups.out)["data"];
    ASSERT_EQ(list.size(), 2u) << list.dump();
    EXPECT_EQ(list[0][0], "/system.slice/high.service");
    EXPECT_EQ(list[1][0], "/system.slice/low.service");
    uint64_t total = 0;
    std::vector<uint64_t> each;
    for (const json& c : list) {
        each.push_back(c[1].get<uint64_t>() + c[2].get<uint64_t>() + c[3].get<uint64_t>());
        total += each.back();
    }
    const uint64_t size = ram->second - ram->first;
    // Sampled: within 2 % of the truth (64 samples a region, regions split
    // at most once across the middle).
    EXPECT_NEAR(double(total), double(size), 0.02 * double(size)) << list.dump();
    EXPECT_NEAR(double(each[0]), double(size) / 2, 0.02 * double(size)) << list.dump();
    const CommandResult by_cgroup = run_command({"/usr/bin/env", "DBUS_SYSTEM_BUS_ADDRESS=" + d.bus.address(),
                                                 env_or("DAMONCTL", "damonctl"), "status", "--cgroups"});
    EXPECT_EQ(by_cgroup.exit_code, 0) << by_cgroup.out;
    EXPECT_NE(by_cgroup.out.find("memory by cgroup (kpagecgroup; warm: idle 5.0 s, cold: idle 1 min 0 s)"),
              std::string::npos)
        << by_cgroup.out;
    EXPECT_NE(by_cgroup.out.find("/system.slice/low.service"), std::string::npos) << by_cgroup.out;
    EXPECT_NE(text.find("damond_cgroup_memory_bytes{cgroup=\"/system.slice/low.service\",state=\"hot\"}"),
              std::string::npos)
        << text;
}

// Asked for, on 7.2+, a few named leaf cgroups are counted by the kernel's
// probes: the system-stat context's kdamond gets one memcg probe per cgroup.
TEST(KernelBackendModules, NamedServicesAreCountedByTheKernelsProbes) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    if (access("/sys/firmware/memmap", R_OK) != 0) GTEST_SKIP() << "no /sys/firmware/memmap";
    Emulator emu("7.2");
    TempDir cg;
    std::filesystem::create_directories(cg.path() + "/system.slice/a.service");
    std::filesystem::create_directories(cg.path() + "/system.slice/b.service");
    std::string config = kConfig;
    config.insert(
        1, R"("system_stat": "always", "system_cgroups": {"method": "probes", "paths": ["/system.slice/a.service", )"
           R"("/system.slice/b.service"]}, )");
    Damond d(emu, "kernel", true, config, "", nullptr,
             {"--cgroup-root", cg.path(), "--kpagecgroup", cg.path() + "/none"});
    ASSERT_TRUE(d.up) << d.log();
    json stat;
    EXPECT_TRUE(wait_until(
        [&] {
            const CommandResult r = d.busctl(
                {"--json=short", "get-property", "org.damond1", "/org/damond1", "org.damond1.Manager", "SystemStat"});
            if (r.exit_code != 0) return false;
            stat = json::parse(r.out)["data"];
            return stat.contains("cgroups_method");
        },
        15000))
        << d.log();
    EXPECT_EQ(stat["cgroups_method"]["data"], "probes") << stat.dump();
    // One kdamond (system-stat's) holds the probes.
    int with_probes = 0;
    for (int k = 0; k < 80; ++k) {
        const std::string ctx = emu.dir() + "/kdamonds/" + std::to_string(k) + "/contexts/0";
        if (read_file(ctx + "/monitoring_attrs/probes/nr_probes") != "2\n") continue;
        ++with_probes;
        EXPECT_EQ(read_file(ctx + "/operations"), "paddr\n");
        EXPECT_EQ(read_file(ctx + "/monitoring_attrs/probes/0/filters/0/type"), "memcg\n");
        EXPECT_EQ(read_file(ctx + "/monitoring_attrs/probes/1/filters/0/path"), "/system.slice/b.service\n");
    }
    EXPECT_EQ(with_probes, 1);
    const CommandResult cgroups = d.busctl(
        {"--json=short", "get-property", "org.damond1", "/org/damond1", "org.damond1.Manager", "SystemCgroups"});
    ASSERT_EQ(cgroups.exit_code, 0) << cgroups.out;
    const json list = json::parse(cgroups.out)["data"];
    ASSERT_EQ(list.size(), 2u) << list.dump();
    EXPECT_EQ(list[0][0], "/system.slice/a.service");
    EXPECT_EQ(list[0][1], 0);  // the emulator's probes see no cgroup's pages
}

TEST(KernelBackendHang, AHungStateWriteFailsTheContextWhileTheBusKeepsAnswering) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    Emulator emu("7.2");
    Damond d(emu, "kernel");  // --state-deadline-ms 1500
    ASSERT_TRUE(d.up) << d.log();
    const std::string ctx = "/org/damond1/context/kdemo";
    emu.put("_emu/hang", "0/state");  // the next state write never returns

    CommandResult paused;
    std::atomic<bool> pause_returned{false};
    std::thread pauser([&] {
        paused = d.manager("PauseContext", "kdemo");
        pause_returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // The pause is stuck in the kernel, and the bus still answers at once.
    const auto t0 = std::chrono::steady_clock::now();
    const auto version = d.get("/org/damond1", "org.damond1.Manager", "Version");
    const auto state = d.get(ctx, "org.damond1.Context", "State");
    const auto list = d.busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "ListContexts"});
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_FALSE(pause_returned);
    EXPECT_LT(waited, std::chrono::milliseconds(1000));
    EXPECT_NE(version.find("s \""), std::string::npos);
    EXPECT_EQ(state, "s \"running\"\n");
    EXPECT_EQ(list.exit_code, 0) << list.out;
    // Another operation on the same context waits for it, and learns how it ended.
    const auto second = d.manager("ResumeContext", "kdemo");
    EXPECT_NE(second.exit_code, 0);
    EXPECT_NE(second.out.find("context failed: kdamond 0: writing"), std::string::npos) << second.out;

    pauser.join();
    EXPECT_NE(paused.exit_code, 0);
    EXPECT_NE(paused.out.find("did not return within 1500 ms"), std::string::npos) << paused.out;
    EXPECT_EQ(d.get(ctx, "org.damond1.Context", "State"), "s \"failed\"\n");
    EXPECT_NE(d.get(ctx, "org.damond1.Context", "LastError").find("did not return"), std::string::npos);
}

// Holds a pause on a context over a connection of its own, until destroyed.
class Holder {
public:
    explicit Holder(const std::string& address) {
        setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
        connection_ = sdbus::createSystemBusConnection();
    }
    uint32_t hold(const std::string& context) {
        auto proxy = sdbus::createProxy(*connection_, "org.damond1", "/org/damond1/context/" + context);
        uint32_t cookie = 0;
        proxy->callMethod("HoldPause")
            .onInterface("org.damond1.Context")
            .withArguments(std::string("test"), std::string("across a restart"))
            .storeResultsTo(cookie);
        return cookie;
    }

private:
    std::unique_ptr<sdbus::IConnection> connection_;
};

// kill -9 while config/kernel-demo.json runs, then start again: damond's
// kdamonds are adopted as they run (same pids, never turned off, none
// added), and its app, the app's state and a pause hold are back.
class KernelBackendRestart : public ::testing::TestWithParam<const char*> {};

TEST_P(KernelBackendRestart, Kill9ThenRestartReadoptsTheRunningKdamonds) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    Emulator emu(GetParam());
    TempDir state;
    json config = json::parse(read_file(env_or("DAMOND_KERNEL_DEMO", "config/kernel-demo.json")));
    const json paddr = {{"ops", "paddr"},
                        {"intervals", {{"sample_us", 5000}, {"aggr_us", 100000}}},
                        {"targets", {{{"regions", {{{"start", 16777216}, {"end", 268435456}}}}}}}};
    config["profiles"] = {{"kfg", paddr}, {"kbg", paddr}};
    config["apps"] = {{"default", {{"foreground", "kfg"}, {"background", "kbg"}}}};

    auto first = std::make_unique<Damond>(emu, "kernel", true, config.dump(), state.path());
    ASSERT_TRUE(first->up) << first->log();
    setenv("DBUS_SYSTEM_BUS_ADDRESS", first->bus.address().c_str(), 1);
    ASSERT_EQ(first
                  ->busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "RegisterApp", "sua{sv}",
                            "org.example.K", "0", "0"})
                  .exit_code,
              0)
        << first->log();
    ASSERT_EQ(first
                  ->busctl({"call", "org.damond1", "/org/damond1", "org.damond1.Manager", "SetAppState", "ssa{sv}",
                            "org.example.K", "foreground", "0"})
                  .exit_code,
              0);
    // A holder whose connection outlives damond.
    auto holder = std::make_unique<Holder>(first->bus.address());
    const uint32_t cookie = holder->hold("kdemo");
    EXPECT_EQ(first->get("/org/damond1/context/kdemo", "org.damond1.Context", "State"), "s \"paused\"\n");
    const std::string nr = read_file(emu.dir() + "/kdamonds/nr_kdamonds");
    std::map<int, std::string> pids;
    for (int k = 0; k < 3; ++k) {
        ASSERT_EQ(read_file(emu.dir() + "/kdamonds/" + std::to_string(k) + "/state"), "on\n") << k;
        pids[k] = read_file(emu.dir() + "/kdamonds/" + std::to_string(k) + "/pid");
    }

    first->child->signal(SIGKILL);
    first->child->wait_exit(10000);
    const size_t mark = emu.log().size();
    // The same bus: the holder is still connected.
    Damond second(emu, "kernel", true, config.dump(), state.path(), &first->bus);
    ASSERT_TRUE(second.up) << second.log();
    EXPECT_NE(second.log().find("re-adopting kdamonds"), std::string::npos) << second.log();
    const std::string since = emu.log().substr(mark);
    EXPECT_EQ(since.find("/state on"), std::string::npos) << since;
    EXPECT_EQ(since.find("/state off"), std::string::npos) << since;
    EXPECT_EQ(since.find("nr_kdamonds"), std::string::npos) << since;
    EXPECT_EQ(read_file(emu.dir() + "/kdamonds/nr_kdamonds"), nr);
    for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(read_file(emu.dir() + "/kdamonds/" + std::to_string(k) + "/state"), "on\n") << k;
        EXPECT_EQ(read_file(emu.dir() + "/kdamonds/" + std::to_string(k) + "/pid"), pids[k]) << k;
    }
    EXPECT_EQ(second.get("/org/damond1/context/kdemo", "org.damond1.Context", "State"), "s \"paused\"\n");
    EXPECT_EQ(second.get("/org/damond1/app/org_2eexample_2eK", "org.damond1.App", "State"), "s \"foreground\"\n");
    EXPECT_NE(second.get("/org/damond1", "org.damond1.Manager", "PauseHolds").find(std::to_string(cookie)),
              std::string::npos);
    // The holder goes: its restored hold goes with it, and kdemo runs again.
    holder.reset();
    EXPECT_TRUE(wait_until([&] {
        return second.get("/org/damond1/context/kdemo", "org.damond1.Context", "State") == "s \"running\"\n";
    })) << second.log();
    EXPECT_EQ(read_file(emu.dir() + "/kdamonds/0/pid"), pids[0]);
}

INSTANTIATE_TEST_SUITE_P(Profiles, KernelBackendRestart, ::testing::Values("6.18", "7.2"));

// A kernel context's figures come from its read-back: damond reads running
// kernel contexts back every metrics interval, and Stats and the textfile
// then say what the kdamond's regions say.
TEST(KernelBackendMetrics, KernelFiguresFollowTheReadBack) {
    if (access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    Emulator emu("7.2");
    TempDir out;
    std::string config = kConfig;
    config.insert(1, R"("metrics": {"textfile": ")" + out.path() +
                         R"(/damond.prom", "interval_ms": 1000, "kernel_readback_ms": 1000},)");
    Damond d(emu, "kernel", true, config);
    ASSERT_TRUE(d.up) << d.log();
    const std::string prom = out.path() + "/damond.prom";
    const std::string series = "damond_context_monitored_bytes{context=\"kdemo\",app=\"\",backend=\"kernel\"} ";
    auto monitored = [&]() -> uint64_t {
        const std::string text = read_file(prom);
        const size_t at = text.find(series);
        return at == std::string::npos ? 0 : std::stoull(text.substr(at + series.size()));
    };
    ASSERT_TRUE(wait_until([&] { return monitored() > 0; }, 10000)) << read_file(prom) << d.log();
    // Paused, the figures hold still: Stats, the textfile and a snapshot agree.
    ASSERT_EQ(d.manager("PauseContext", "kdemo").exit_code, 0);
    const json snap =
        json::parse(json::parse(d.busctl({"--json=short", "call", "org.damond1", "/org/damond1/context/kdemo",
                                          "org.damond1.Context", "Snapshot"})
                                    .out)["data"][0]
                        .get<std::string>());
    uint64_t bytes = 0;
    for (const json& r : snap["targets"][0]["regions"]) bytes += r["end"].get<uint64_t>() - r["start"].get<uint64_t>();
    ASSERT_GT(bytes, 0u);
    const json stats = json::parse(d.busctl({"--json=short", "get-property", "org.damond1",
                                             "/org/damond1/context/kdemo", "org.damond1.Context", "Stats"})
                                       .out)["data"];
    EXPECT_EQ(stats["monitored_bytes"]["data"].get<uint64_t>(), bytes);
    EXPECT_EQ(d.get("/org/damond1/context/kdemo", "org.damond1.Context", "NrRegions"),
              "t " + std::to_string(snap["targets"][0]["regions"].size()) + "\n");
    EXPECT_TRUE(wait_until([&] { return monitored() == bytes; }, 5000)) << monitored() << " vs " << bytes;
    // The pool: the config's context and two for each of apps.max_apps (32);
    // only kdemo's runs (paused natively on 7.2: its kdamond stays on).
    EXPECT_NE(read_file(prom).find("damond_kdamonds{owner=\"damond\",state=\"any\"} 65\n"), std::string::npos)
        << read_file(prom);
    EXPECT_NE(read_file(prom).find("damond_kdamonds{owner=\"damond\",state=\"on\"} 1\n"), std::string::npos);
}
