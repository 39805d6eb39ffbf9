// Soak: damond (in-process backend, a state directory as systemd gives it)
// with 1000 apps, switched 100 times a second by 4 clients for 60 s, while
// holds are taken and dropped and clients disconnect in the middle of
// calls. Checks and prints as RESULT robustness lines:
//   - every AppStateChanged is there once: per app, each signal's old state
//     is the previous one's new, and the last matches ListApps;
//   - damond's RSS and open fds after the load are within 5% of before;
//   - switch latency p99 under load beside the idle p99 (same run);
//   - RSS at the limits: 1000 apps, one client holding the default number
//     of holds (limits.holds_per_caller), one caller's default number of
//     contexts (limits.contexts_per_caller) at 10000 regions each.
// damond-bench-soak PATH-TO-DAMOND [SECONDS]
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "bench_goal.hpp"
#include "bus_label.hpp"

#include "context_proxy.h"
#include "manager_proxy.h"
#include "private_bus.hpp"

using namespace damond::testing;
using damond::bench::goal;
using Clock_ = std::chrono::steady_clock;

namespace {

struct Signal {
    std::string old_state, new_state;
};

class Manager final : public sdbus::ProxyInterfaces<org::damond1::Manager_proxy> {
public:
    Manager() : ProxyInterfaces("org.damond1", "/org/damond1") { registerProxy(); }
    ~Manager() { unregisterProxy(); }
    std::mutex mu;
    std::map<std::string, std::vector<Signal>> signals;  // per app, in order

private:
    void onContextAdded(const std::string&, const sdbus::ObjectPath&) override {}
    void onContextRemoved(const std::string&, const sdbus::ObjectPath&) override {}
    void onAppStateChanged(const std::string& app, const std::string& old_state,
                           const std::string& new_state) override {
        std::lock_guard<std::mutex> lock(mu);
        signals[app].push_back({old_state, new_state});
    }
};

class Context final : public sdbus::ProxyInterfaces<org::damond1::Context_proxy> {
public:
    explicit Context(const std::string& path) : ProxyInterfaces("org.damond1", path) { registerProxy(); }
    ~Context() { unregisterProxy(); }
};

const char* kConfig = R"({
  "backend": "inprocess",
  "profiles": {
    "fine":   {"ops": "synthetic", "intervals": {"sample_us": 5000, "aggr_us": 100000},
               "targets": [{"regions": [{"start": 0, "end": 268435456}],
                            "workload": {"sets": [{"start": 0, "end": 16777216, "access_bp": 8000}]}}]},
    "coarse": {"ops": "synthetic", "intervals": {"sample_us": 100000, "aggr_us": 2000000},
               "targets": [{"regions": [{"start": 0, "end": 268435456}],
                            "workload": {"sets": [{"start": 0, "end": 4194304, "access_bp": 3000}]}}]}
  },
  "apps": {"default": {"foreground": "fine", "background": "coarse"}, "one_foreground": false},
  "limits": {"apps_per_caller": 1024}
})";

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * double(v.size())))];
}

double rss_mib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return -1;
}

size_t open_fds(pid_t pid) {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        (void)e;
        ++n;
    }
    return n;
}

std::string app_name(int i) { return "soak.app" + std::to_string(i); }

std::string context_path(const std::string& app, const std::string& state) {
    return damond::context_object_path(app + "@" + state);
}

}  // namespace

int main(int argc, char** argv) {
    const char* damond_path = argc > 1 ? argv[1] : std::getenv("DAMOND");
    const int seconds = argc > 2 ? std::atoi(argv[2]) : 60;
    if (!damond_path) {
        std::fprintf(stderr, "usage: damond-bench-soak PATH-TO-DAMOND [SECONDS]\n");
        return 2;
    }
    constexpr int kApps = 1000, kClients = 4, kSwitchesPerSecond = 100;
    PrivateBus bus;
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
    TempDir dir;
    const std::string state_dir = dir.path() + "/state";
    std::filesystem::create_directory(state_dir);
    Child damond({damond_path, "--config", dir.write("soak.json", kConfig), "--state-dir", state_dir},
                 std::map<std::string, std::string>{{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}},
                 dir.path() + "/damond.log");
    std::unique_ptr<Manager> listener;
    for (int i = 0; i < 300 && !listener; ++i) {
        try {
            auto p = std::make_unique<Manager>();
            p->Version();
            listener = std::move(p);
        } catch (const sdbus::Error&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    if (!listener) {
        std::fprintf(stderr, "damond did not come up:\n%s", read_file(dir.path() + "/damond.log").c_str());
        return 1;
    }
    const pid_t pid = damond.pid();
    const double rss_empty = rss_mib(pid);
    std::fprintf(stderr, "registering %d apps\n", kApps);
    for (int i = 0; i < kApps; ++i) listener->RegisterApp(app_name(i), 0, {});
    const double rss_apps = rss_mib(pid);

    // Idle latency: one client, one switch at a time.
    std::mt19937_64 rng(42);
    const char* states[] = {"foreground", "background"};
    std::vector<double> idle;
    {
        Manager m;
        for (int i = 0; i < 500; ++i) {
            const auto t0 = Clock_::now();
            m.SetAppState(app_name(static_cast<int>(rng() % kApps)), states[rng() % 2], {});
            idle.push_back(std::chrono::duration<double, std::micro>(Clock_::now() - t0).count());
        }
    }
    // Every context trained to its working size first: regions split and
    // merge over the first aggregations until their number settles, and a
    // paused context keeps them (that is the point of pausing); damond's
    // memory follows them (about 120 B a region). The foreground profile
    // settles within 20 aggregations (2 s); the background one takes about
    // 100 aggregations of 2 s to go from 20 regions to its 150-250, which
    // would happen during the soak and read as growth. So the background
    // contexts train at the foreground's intervals (the same 20 samples per
    // aggregation, so the same course, 20 times faster) and get their own
    // back before the soak: a commit keeps the regions.
    std::fprintf(stderr, "training every context\n");
    for (int i = 0; i < kApps; ++i) listener->SetAppState(app_name(i), "foreground", {});
    std::this_thread::sleep_for(std::chrono::seconds(5));
    for (int i = 0; i < kApps; ++i) listener->SetAppState(app_name(i), "background", {});
    auto commit_background = [&](const char* intervals) {
        for (int i = 0; i < kApps; ++i) Context(context_path(app_name(i), "background")).Commit(intervals);
    };
    commit_background(R"({"intervals": {"sample_us": 5000, "aggr_us": 100000}})");
    std::this_thread::sleep_for(std::chrono::seconds(15));
    commit_background(R"({"intervals": {"sample_us": 100000, "aggr_us": 2000000}})");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double rss_before = rss_mib(pid);
    const size_t fds_before = open_fds(pid);
    // Regions of every context: training goes on during the soak (each
    // switch to the foreground lets a context split further, up to its
    // max_nr_regions), and damond's memory follows them.
    auto total_regions = [&] {
        uint64_t n = 0;
        for (const auto& c : listener->DescribeContexts()) n += c.get<8>();
        return n;
    };
    const uint64_t regions_before = total_regions();

    // The load.
    std::fprintf(stderr, "soaking for %d s: %d switches/s from %d clients\n", seconds, kSwitchesPerSecond, kClients);
    std::atomic<uint64_t> switches{0}, errors{0}, disconnects{0}, holds{0};
    std::mutex lat_mu;
    std::vector<double> loaded;
    std::vector<std::thread> clients;
    const auto end = Clock_::now() + std::chrono::seconds(seconds);
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
            std::mt19937_64 r(1000 + c);
            Manager m;
            std::vector<std::pair<std::unique_ptr<Context>, uint32_t>> held;
            const auto period = std::chrono::microseconds(1000000 * kClients / kSwitchesPerSecond);
            auto next = Clock_::now();
            std::vector<double> mine;
            for (uint64_t n = 0; Clock_::now() < end; ++n) {
                next += period;
                std::this_thread::sleep_until(next);
                const std::string app = app_name(static_cast<int>(r() % kApps));
                const char* state = states[r() % 2];
                if (n % 20 == 19) {
                    // Disconnects in the middle of a call: the reply has nobody to go to.
                    auto conn = sdbus::createSystemBusConnection();
                    auto proxy = sdbus::createProxy(*conn, "org.damond1", "/org/damond1");
                    proxy->callMethodAsync("SetAppState")
                        .onInterface("org.damond1.Manager")
                        .withArguments(app, std::string(state), std::map<std::string, sdbus::Variant>{})
                        .uponReplyInvoke([](const sdbus::Error*) {});
                    proxy.reset();
                    conn.reset();
                    ++disconnects;
                    continue;
                }
                if (n % 10 == 5) {
                    // A hold on an app's context, dropped a few calls later;
                    // one in four goes with its holder's connection instead.
                    const std::string other = app_name(static_cast<int>(r() % kApps));
                    try {
                        auto ctx = std::make_unique<Context>(context_path(other, "background"));
                        const uint32_t cookie = ctx->HoldPause("soak", "hold and drop");
                        held.emplace_back(std::move(ctx), cookie);
                        ++holds;
                    } catch (const sdbus::Error& e) {
                        ++errors;
                        std::fprintf(stderr, "hold: %s: %s\n", e.getName().c_str(), e.getMessage().c_str());
                    }
                }
                if (held.size() > 3) {
                    auto& [ctx, cookie] = held.front();
                    try {
                        if (r() % 4) ctx->ReleasePause(cookie);
                    } catch (const sdbus::Error& e) {
                        ++errors;
                        std::fprintf(stderr, "release: %s: %s\n", e.getName().c_str(), e.getMessage().c_str());
                    }
                    held.erase(held.begin());  // a hold not released goes with the proxy's connection
                }
                const auto t0 = Clock_::now();
                try {
                    m.SetAppState(app, state, {});
                    ++switches;
                } catch (const sdbus::Error& e) {
                    ++errors;
                    std::fprintf(stderr, "switch: %s: %s\n", e.getName().c_str(), e.getMessage().c_str());
                }
                mine.push_back(std::chrono::duration<double, std::micro>(Clock_::now() - t0).count());
            }
            for (auto& [ctx, cookie] : held) {
                try {
                    ctx->ReleasePause(cookie);
                } catch (const sdbus::Error&) {
                }
            }
            std::lock_guard<std::mutex> lock(lat_mu);
            loaded.insert(loaded.end(), mine.begin(), mine.end());
        });
    }
    for (auto& t : clients) t.join();

    // Signals: per app a chain without gaps or repeats, ending where ListApps is.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::map<std::string, std::string> now;
    for (const auto& a : listener->ListApps()) now[a.get<0>()] = a.get<2>();
    size_t lost_or_doubled = 0, nr_signals = 0;
    {
        std::lock_guard<std::mutex> lock(listener->mu);
        for (int i = 0; i < kApps; ++i) {
            const std::string app = app_name(i);
            std::string at = "background";  // registered in the background
            for (const Signal& s : listener->signals[app]) {
                ++nr_signals;
                if (s.old_state == "gone") continue;  // registration
                if (s.old_state != at) ++lost_or_doubled;
                at = s.new_state;
            }
            if (at != now[app]) ++lost_or_doubled;
        }
    }
    const double rss_after = rss_mib(pid);
    const size_t fds_after = open_fds(pid);
    const uint64_t regions_after = total_regions();

    // RSS at the limits: one client holding limits.holds_per_caller (64)
    // holds, one caller's limits.contexts_per_caller (32) contexts at
    // limits.regions_per_context (10000) regions.
    double rss_holds = 0, rss_contexts = 0;
    {
        Manager m;
        std::vector<std::unique_ptr<Context>> ctxs;
        for (int i = 0; i < 64; ++i) {
            ctxs.push_back(std::make_unique<Context>(context_path(app_name(i), "background")));
            (void)ctxs.back()->HoldPause("limit", std::string(1024, 'w'));  // limits.text_bytes
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        rss_holds = rss_mib(pid);
        const std::string spec = R"({"ops": "synthetic", "intervals": {"sample_us": 5000, "aggr_us": 100000},
          "nr_regions": {"min": 10000, "max": 10000},
          "targets": [{"regions": [{"start": 0, "end": 68719476736}]}]})";
        for (int i = 0; i < 32; ++i) m.CreateContext("limit" + std::to_string(i), spec);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        rss_contexts = rss_mib(pid);
        for (int i = 0; i < 32; ++i) m.RemoveContext("limit" + std::to_string(i));
    }

    std::printf("RESULT robustness soak_seconds=%d\n", seconds);
    std::printf("RESULT robustness soak_switches=%llu\n", static_cast<unsigned long long>(switches));
    std::printf("RESULT robustness soak_disconnects_mid_call=%llu\n", static_cast<unsigned long long>(disconnects));
    std::printf("RESULT robustness soak_holds=%llu\n", static_cast<unsigned long long>(holds));
    std::printf("RESULT robustness soak_errors=%llu\n", static_cast<unsigned long long>(errors));
    std::printf("RESULT robustness soak_app_state_signals=%zu\n", nr_signals);
    std::printf("RESULT robustness soak_signals_lost_or_doubled=%zu\n", lost_or_doubled);
    std::printf("RESULT robustness switch_p99_us_idle=%.1f\n", percentile(idle, 0.99));
    std::printf("RESULT robustness switch_p99_us_loaded=%.1f\n", percentile(loaded, 0.99));
    std::printf("RESULT robustness switch_p99_loaded_over_idle=%.2f\n",
                percentile(loaded, 0.99) / percentile(idle, 0.99));
    std::printf("RESULT robustness rss_mib_before=%.1f rss_mib_after=%.1f ratio=%.3f\n", rss_before, rss_after,
                rss_after / rss_before);
    std::printf("RESULT robustness fds_before=%zu fds_after=%zu\n", fds_before, fds_after);
    std::printf("RESULT robustness rss_mib_no_apps=%.1f rss_mib_1000_apps=%.1f\n", rss_empty, rss_apps);
    std::printf("RESULT robustness soak_regions_before=%llu soak_regions_after=%llu\n",
                static_cast<unsigned long long>(regions_before), static_cast<unsigned long long>(regions_after));
    std::printf("RESULT robustness rss_mib_64_holds_one_client=%.1f\n", rss_holds);
    std::printf("RESULT robustness rss_mib_32_contexts_10000_regions=%.1f\n", rss_contexts);
    goal("soak_signals_lost_or_doubled", double(lost_or_doubled), "<=", 0);
    goal("soak_errors", double(errors), "<=", 0);
    goal("soak_rss_after_over_before", rss_after / rss_before, "<=", 1.05);
    goal("soak_fds_after_over_before", double(fds_after) / double(fds_before), "<=", 1.05);

    listener.reset();
    damond.signal(SIGTERM);
    if (damond.wait_exit(30000) != 0) {
        std::fprintf(stderr, "damond did not exit cleanly:\n%s", read_file(dir.path() + "/damond.log").c_str());
        return 1;
    }
    return damond::bench::goals_missed() ? 1 : 0;
}
