// damonctl's start-up and calls against busctl's, the tool people would use
// otherwise: `damonctl status` (two calls, every context's properties,
// formatted) over `busctl call ... ListContexts` (one call), each a process
// of its own, interleaved, with 100 contexts in damond. Prints RESULT and
// GOAL lines; exits 1 if a goal is missed. Then `damonctl report` (a
// snapshot and the spec, summarised) over `busctl call ... Snapshot`.
//   damond-bench-damonctl PATH-TO-DAMOND PATH-TO-DAMONCTL
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_goal.hpp"
#include "private_bus.hpp"

using namespace damond::testing;

extern char** environ;

namespace {

double now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// Wall time of one run of argv, output to /dev/null; -1 if it failed.
double time_ms(std::vector<std::string> argv) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args = c_strings(argv);
    const double start = now_ms();
    pid_t pid = -1;
    if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) return -1;
    int status = 0;
    waitpid(pid, &status, 0);
    const double took = now_ms() - start;
    posix_spawn_file_actions_destroy(&fa);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? took : -1;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Runs `a` and `b` in turn 60 times; the medians of their times after the
// first five rounds (which warm the page cache), or false if a run failed.
bool interleaved(const std::vector<std::string>& a, const std::vector<std::string>& b, double& a50, double& b50) {
    std::vector<double> as, bs;
    for (int round = 0; round < 60; ++round) {
        const double ta = time_ms(a), tb = time_ms(b);
        if (ta < 0 || tb < 0) {
            std::fprintf(stderr, "a run failed (%s %.1f, %s %.1f)\n", a[1].c_str(), ta, b[0].c_str(), tb);
            return false;
        }
        if (round >= 5) {
            as.push_back(ta);
            bs.push_back(tb);
        }
    }
    a50 = median(as);
    b50 = median(bs);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: damond-bench-damonctl PATH-TO-DAMOND PATH-TO-DAMONCTL\n");
        return 2;
    }
    setenv("DAMOND", argv[1], 1);
    // damond as the unit runs it (the build's damond.service beside the binary).
    setenv("DAMOND_UNIT",
           (std::string(argv[1]).substr(0, std::string(argv[1]).rfind('/') + 1) + "damond.service").c_str(), 0);
    const std::string damonctl = argv[2];
    PrivateBus bus;
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
    TempDir dir;
    auto damond = start_damond(
        bus,
        dir.write("c.json", R"({"backend": "inprocess", "limits": {"contexts": 1000, "contexts_per_caller": 1000}})"),
        dir.path() + "/damond.log");
    if (!damond) {
        std::fprintf(stderr, "damond did not start:\n%s\n", read_file(dir.path() + "/damond.log").c_str());
        return 1;
    }
    constexpr int kContexts = 100;
    const std::string spec =
        dir.write("spec.json", R"({"ops": "synthetic", "intervals": {"sample_us": 100000, "aggr_us": 1000000},
        "targets": [{"regions": [{"start": 0, "end": 67108864}]}]})");
    for (int i = 0; i < kContexts; ++i)
        if (time_ms({damonctl, "create", "c" + std::to_string(i), spec}) < 0) {
            std::fprintf(stderr, "damonctl create failed\n");
            return 1;
        }
    const std::string busctl = env_or("BUSCTL", "busctl");
    double s50 = 0, b50 = 0;
    if (!interleaved({damonctl, "status"},
                     {busctl, "--address=" + bus.address(), "call", "org.damond1", "/org/damond1",
                      "org.damond1.Manager", "ListContexts"},
                     s50, b50))
        return 1;
    std::printf("RESULT damonctl status_100_contexts_ms=%.2f\n", s50);
    std::printf("RESULT damonctl busctl_list_contexts_ms=%.2f\n", b50);
    std::printf("RESULT damonctl status_over_busctl=%.2f\n", s50 / b50);
    damond::bench::goal("status_over_busctl", s50 / b50, "<=", 1.5);
    damond::bench::goal("status_100_contexts_ms", s50, "<=", 20);

    // `report` of a context like the demo's (a stat scheme, up to 1000
    // regions) over busctl's Snapshot call: the one call that reads the
    // same regions, its JSON printed.
    const std::string demo = dir.write("demo.json", R"({"ops": "synthetic", "seed": 1,
        "intervals": {"sample_us": 1000, "aggr_us": 20000}, "nr_regions": {"min": 100, "max": 1000},
        "targets": [{"regions": [{"start": 0, "end": 1073741824}],
                     "workload": {"seed": 3, "sets": [{"start": 0, "end": 67108864, "access_bp": 9000}]}}],
        "schemes": [{"action": "stat", "access_pattern": {"age": {"min": 2, "max": 1000}}}]})");
    if (time_ms({damonctl, "create", "demo", demo}) < 0) {
        std::fprintf(stderr, "damonctl create demo failed\n");
        return 1;
    }
    usleep(2000000);  // a hundred aggregations: the regions have split
    double r50 = 0, n50 = 0;
    if (!interleaved({damonctl, "report", "demo"},
                     {busctl, "--address=" + bus.address(), "call", "org.damond1", "/org/damond1/context/demo",
                      "org.damond1.Context", "Snapshot"},
                     r50, n50))
        return 1;
    std::printf("RESULT damonctl report_ms=%.2f\n", r50);
    std::printf("RESULT damonctl busctl_snapshot_ms=%.2f\n", n50);
    std::printf("RESULT damonctl report_over_busctl=%.2f\n", r50 / n50);
    damond::bench::goal("report_over_busctl", r50 / n50, "<=", 1.5);
    damond->signal(SIGTERM);
    damond->wait_exit(10000);
    return damond::bench::goals_missed() ? 1 : 0;
}
