// Runs inside the real-kernel guests, where there is no jq: reads what
// busctl --json=short prints for a Snapshot call on stdin and answers one
// question about it.
//   rk-probe hot-cold HOT_START HOT_END COLD_START COLD_END
//       size-weighted mean last_nr_accesses over each range: "hot=X cold=Y"
//   rk-probe ages START END
//       size-weighted mean and the max of the regions' ages over the range:
//       "mean_age=X max_age=Y nr_regions=N"
//   rk-probe label NAME
//       NAME escaped as an object path label, as damond's object paths are
//   rk-probe regions START END
//       the regions overlapping the range, one per line
//   rk-probe apps-check LIST.json KDAMONDS.json ADMIN
//       LIST.json: busctl --json=short of ListContexts; KDAMONDS.json:
//       damond's record (kdamonds.json). Every app (contexts "<app>@...")
//       has exactly one context running, and the kdamond of each context is
//       as its state says (running: on, pause N; paused: pause Y, or off
//       where the kernel has no pause file). "apps=N contexts=M" or what is wrong.
//   rk-probe ctxt-switches KDAMONDS.json SUFFIX ADMIN
//       the context switches of the running kdamonds of the contexts whose
//       names end in SUFFIX (/proc/PID/status), summed: all of them, and the
//       voluntary ones alone (each a sleep, so a wake-up); and how many of
//       them sleep deeply (a sampling or park interval of 1 s or more in their
//       files) or lightly (paused, 100 ms to 1 s: the recents'):
//       "switches=N sleeps=V kdamonds=M deep=D light=L"
//   rk-probe kdamond-of KDAMONDS.json CONTEXT
//       the kdamond damond's record gives the context
//   rk-probe tuning < SNAPSHOT
//       what DAMON tuned, as the snapshot read it: "sample_us=S aggr_us=A
//       effective_bytes=E" (the first scheme's quota in force)
//   rk-probe paged PID START END
//       how much of the range is in memory and in swap (pagemap):
//       "present_kib=P swapped_kib=S"
//   rk-probe swapped LABEL=PID:START:END[,PID:START:END...] ...
//       per label, the KiB of its ranges in swap, summed: "LABEL=KIB ..."
//       (one pagemap read per range: the scenario asks every second)
//   rk-probe pageout PID
//       Android's compaction of a cached app: process_madvise(MADV_PAGEOUT)
//       over all of its anonymous memory (every private mapping without a
//       file: heap, stack, anonymous mmaps); prints the bytes advised
//   rk-probe elapsed-ms COMMAND ARG...
//       runs it, its stdout thrown away; prints its wall time in ms on stdout, exits as it did
//   rk-probe age-shift BEFORE.json AFTER.json START END
//       how the ages over the range moved from one snapshot to the other,
//       against the aggregations the kernel did in between: the ages at 256
//       evenly spread addresses, "aggregations=N median_shift=X within_one=F
//       within_two=G exactly=E accessed=H monitored_mib=A/B" (E, F, G: the
//       share of addresses whose age moved by N exactly, plus or minus one or
//       two; H: the share left out because the kernel saw them accessed in
//       the last aggregation before AFTER — an access restarts an age;
//       "within_four=W": the share within four of N, the window of app
//       switches, where merges with a young neighbour pull an age down)
//   rk-probe age-shift BEFORE.json AFTER.json START END PAUSED_AGGREGATIONS
//       the same, and the band that tells a kept age from the two faults a
//       pause can have: "age_at_pause=M band_low=L band_high=H in_band=F"
//       (M: the median age at the pause; an age lost in the pause starts
//       over, so it moves by at most N - M; one that went on aging uncounted
//       through a pause that would have held P aggregations moves by about
//       N + P. L = N - M/2 and H = N + P/2 lie halfway; F: the share of the
//       points whose age moved by L..H)
//   rk-probe cgroups-error CGROUP:HOT_MIB:COLD_MIB ...
//       stdin: busctl --json=short of the Manager's SystemCgroups. Per
//       cgroup "CGROUP hot=H warm=W cold=C MiB", then the largest errors
//       against the truth given, in percent: "hot_error_pct_max=X
//       cold_error_pct_max=Y" (a cgroup missing counts 100)
//   rk-probe stat-p50
//       stdin: busctl --json=short of the Manager's SystemStat: the median
//       idle time in ms (nothing when damond serves none)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bus_label.hpp"

using nlohmann::json;

namespace {

json snapshot_from(std::istream& in) {
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const json reply = json::parse(text);  // {"type": "s", "data": ["<snapshot json>"]}
    return json::parse(reply.at("data").at(0).get<std::string>());
}

json snapshot_from_stdin() { return snapshot_from(std::cin); }

json snapshot_from_file(const char* path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    return snapshot_from(in);
}

// The region holding addr, or nullptr when no region does.
const json* region_at(const json& snap, uint64_t addr) {
    for (const json& t : snap.at("targets"))
        for (const json& r : t.at("regions"))
            if (r.at("start").get<uint64_t>() <= addr && addr < r.at("end").get<uint64_t>()) return &r;
    return nullptr;
}

struct Weighted {
    double sum = 0, size = 0, max = 0;
    int regions = 0;
};

Weighted over(const json& snap, uint64_t lo, uint64_t hi, const char* field) {
    Weighted w;
    for (const json& t : snap.at("targets"))
        for (const json& r : t.at("regions")) {
            const uint64_t s = std::max(lo, r.at("start").get<uint64_t>());
            const uint64_t e = std::min(hi, r.at("end").get<uint64_t>());
            if (s >= e) continue;
            const double v = r.at(field).get<double>();
            w.sum += v * double(e - s);
            w.size += double(e - s);
            w.max = std::max(w.max, v);
            ++w.regions;
        }
    return w;
}

// A sysfs file's value, "" if it cannot be read. EBUSY (DAMON's sysfs lock,
// held while damond's state command waits for a kdamond: up to a deep
// pause's interval) is tried again for a while.
std::string read_text(const std::string& path) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return "";
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        const int err = errno;
        ::close(fd);
        if (n >= 0) {
            std::string v(buf, static_cast<size_t>(n));
            while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
            return v;
        }
        if (err != EBUSY) return "";
        ::usleep(25000);
    }
    return "";
}

json json_file(const char* path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    return json::parse(in);
}

// context name -> kdamond index, from damond's record.
std::map<std::string, unsigned> kdamond_of(const json& record) {
    std::map<std::string, unsigned> out;
    for (const auto& [name, a] : record.at("assigned").items()) out[name] = a.at("kdamond").get<unsigned>();
    return out;
}

int apps_check(const char* list_path, const char* record_path, const std::string& admin) {
    const json reply = json_file(list_path);  // {"type": "a(sos)", "data": [[[name, path, state], ...]]}
    const auto kd = kdamond_of(json_file(record_path));
    std::map<std::string, int> running;
    int contexts = 0, problems = 0;
    for (const json& c : reply.at("data").at(0)) {
        const std::string name = c.at(0).get<std::string>(), state = c.at(2).get<std::string>();
        const size_t at = name.rfind('@');
        if (at == std::string::npos) continue;
        ++contexts;
        const std::string app = name.substr(0, at);
        running[app] += state == "running";
        auto k = kd.find(name);
        if (k == kd.end()) {
            // Created paused where a pause turns the kdamond off: staged, never started, so not recorded yet.
            if (state == "paused") continue;
            std::printf("%s: no kdamond recorded\n", name.c_str());
            ++problems;
            continue;
        }
        const std::string dir = admin + "/kdamonds/" + std::to_string(k->second);
        const std::string on = read_text(dir + "/state"), pause = read_text(dir + "/contexts/0/pause");
        const bool ok = state == "running"  ? on == "on" && (pause.empty() || pause == "N")
                        : state == "paused" ? (pause.empty() ? on == "off" : on == "on" && pause == "Y")
                                            : false;
        if (!ok) {
            std::printf("%s is %s but kdamond %u is %s, pause %s\n", name.c_str(), state.c_str(), k->second, on.c_str(),
                        pause.c_str());
            ++problems;
        }
    }
    for (const auto& [app, n] : running)
        if (n != 1) {
            std::printf("%s has %d contexts running\n", app.c_str(), n);
            ++problems;
        }
    if (problems) return 1;
    std::printf("apps=%zu contexts=%d\n", running.size(), contexts);
    return 0;
}

int ctxt_switches(const char* record_path, const std::string& suffix, const std::string& admin) {
    unsigned long long total = 0, sleeps = 0;
    int kdamonds = 0, deep = 0, light = 0;
    for (const auto& [name, k] : kdamond_of(json_file(record_path))) {
        if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string dir = admin + "/kdamonds/" + std::to_string(k);
        if (read_text(dir + "/state") != "on") continue;
        std::ifstream status("/proc/" + read_text(dir + "/pid") + "/status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
                const unsigned long long n = std::strtoull(line.substr(line.find(':') + 1).c_str(), nullptr, 10);
                total += n;
                if (line[0] == 'v') sleeps += n;
            }
        ++kdamonds;
        // The longer of the sampling and the park interval: how long it sleeps per loop.
        const unsigned long long sleeps_us = std::max(
            std::strtoull(read_text(dir + "/contexts/0/monitoring_attrs/intervals/sample_us").c_str(), nullptr, 10),
            std::strtoull(read_text(dir + "/contexts/0/schemes/0/watermarks/interval_us").c_str(), nullptr, 10));
        if (sleeps_us >= 1000000)
            ++deep;
        else if (sleeps_us >= 100000 && read_text(dir + "/contexts/0/pause") == "Y")
            ++light;
    }
    std::printf("switches=%llu sleeps=%llu kdamonds=%d deep=%d light=%d\n", total, sleeps, kdamonds, deep, light);
    return 0;
}

// How much of [start, end) of process `pid` is in memory and how much in
// swap, from /proc/<pid>/pagemap (bit 63 present, bit 62 swapped).
int paged(int pid, unsigned long long start, unsigned long long end) {
    const int fd = open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error("cannot open the pagemap of " + std::to_string(pid));
    unsigned long long present = 0, swapped = 0;
    for (unsigned long long a = start; a < end; a += 4096) {
        uint64_t entry = 0;
        if (pread(fd, &entry, sizeof entry, static_cast<off_t>(a / 4096 * 8)) != sizeof entry) break;
        if (entry >> 63 & 1) ++present;
        if (entry >> 62 & 1) ++swapped;
    }
    close(fd);
    std::printf("present_kib=%llu swapped_kib=%llu\n", present * 4, swapped * 4);
    return 0;
}

uint64_t swapped_kib(int pid, unsigned long long start, unsigned long long end) {
    const int fd = open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error("cannot open the pagemap of " + std::to_string(pid));
    std::vector<uint64_t> entries((end - start) / 4096);
    const ssize_t got = pread(fd, entries.data(), entries.size() * 8, static_cast<off_t>(start / 4096 * 8));
    close(fd);
    uint64_t swapped = 0;
    for (ssize_t i = 0; i < got / 8; ++i) swapped += entries[static_cast<size_t>(i)] >> 62 & 1;
    return swapped * 4;
}

int swapped(int argc, char** argv) {
    for (int i = 2; i < argc; ++i) {
        const std::string group = argv[i];
        const auto eq = group.find('=');
        if (eq == std::string::npos) throw std::runtime_error("expected LABEL=PID:START:END,...: " + group);
        uint64_t kib = 0;
        std::string ranges = group.substr(eq + 1);
        for (size_t at = 0; at < ranges.size();) {
            size_t comma = ranges.find(',', at);
            if (comma == std::string::npos) comma = ranges.size();
            unsigned long long pid = 0, s = 0, e = 0;
            if (std::sscanf(ranges.substr(at, comma - at).c_str(), "%llu:%llu:%llu", &pid, &s, &e) != 3)
                throw std::runtime_error("expected PID:START:END: " + ranges.substr(at, comma - at));
            kib += swapped_kib(static_cast<int>(pid), s, e);
            at = comma + 1;
        }
        std::printf("%s%s=%llu", i > 2 ? " " : "", group.substr(0, eq).c_str(), static_cast<unsigned long long>(kib));
    }
    std::printf("\n");
    return 0;
}

int pageout(int pid) {
    std::FILE* maps = std::fopen(("/proc/" + std::to_string(pid) + "/maps").c_str(), "r");
    if (!maps) throw std::runtime_error("cannot read the maps of " + std::to_string(pid));
    std::vector<iovec> anon;
    char line[4096];
    while (std::fgets(line, sizeof line, maps)) {
        unsigned long long s = 0, e = 0, inode = 0;
        char perms[8] = {}, path[4096] = {};
        if (std::sscanf(line, "%llx-%llx %7s %*s %*s %llu %4095s", &s, &e, perms, &inode, path) < 4) continue;
        // Private and without a file ([heap], [stack] and nameless mappings;
        // not [vdso] or [vvar], which are the kernel's).
        if (perms[3] != 'p' || inode != 0) continue;
        if (path[0] && std::strcmp(path, "[heap]") && std::strcmp(path, "[stack]")) continue;
        anon.push_back({reinterpret_cast<void*>(s), static_cast<size_t>(e - s)});
    }
    std::fclose(maps);
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) throw std::runtime_error("pidfd_open " + std::to_string(pid) + ": " + std::strerror(errno));
    unsigned long long advised = 0;
    // One range per call: a call stops at the first range it cannot advise,
    // and the others still should be.
    for (size_t i = 0; i < anon.size(); ++i) {
        const ssize_t done = syscall(SYS_process_madvise, pidfd, &anon[i], 1, MADV_PAGEOUT, 0);
        if (done > 0) advised += static_cast<unsigned long long>(done);
    }
    close(pidfd);
    std::printf("%llu\n", advised);
    return 0;
}

int elapsed_ms(char** argv) {
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t child = fork();
    if (child == 0) {
        // Only the time goes to stdout (a property read prints its value).
        const int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDOUT_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%.1f\n", ms);
    std::fflush(stdout);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string cmd = argc > 1 ? argv[1] : "";
        auto arg = [&](int i) { return std::strtoull(argv[i], nullptr, 0); };
        if (cmd == "swapped" && argc >= 3) return swapped(argc, argv);
        if (cmd == "pageout" && argc == 3) return pageout(static_cast<int>(arg(2)));
        if (cmd == "paged" && argc == 5) return paged(static_cast<int>(arg(2)), arg(3), arg(4));
        if (cmd == "tuning" && argc == 2) {
            const json snap = snapshot_from_stdin();
            const json& schemes = snap.at("schemes");
            std::printf("sample_us=%llu aggr_us=%llu effective_bytes=%llu\n",
                        snap.at("intervals").at("sample_us").get<unsigned long long>(),
                        snap.at("intervals").at("aggr_us").get<unsigned long long>(),
                        schemes.empty() ? 0ULL : schemes[0].at("effective_bytes").get<unsigned long long>());
            return 0;
        }
        if (cmd == "hot-cold" && argc == 6) {
            const json snap = snapshot_from_stdin();
            const Weighted hot = over(snap, arg(2), arg(3), "last_nr_accesses");
            const Weighted cold = over(snap, arg(4), arg(5), "last_nr_accesses");
            std::printf("hot=%.2f cold=%.2f\n", hot.size ? hot.sum / hot.size : -1,
                        cold.size ? cold.sum / cold.size : -1);
            return 0;
        }
        if (cmd == "ages" && argc == 4) {
            const Weighted a = over(snapshot_from_stdin(), arg(2), arg(3), "age");
            std::printf("mean_age=%.2f max_age=%.0f nr_regions=%d\n", a.size ? a.sum / a.size : -1, a.max, a.regions);
            return 0;
        }
        if (cmd == "label" && argc == 3) {  // a name as damond's object paths escape it
            std::printf("%s\n", damond::bus_label_escape(argv[2]).c_str());
            return 0;
        }
        if (cmd == "age-shift" && (argc == 6 || argc == 7)) {
            const json a = snapshot_from_file(argv[2]), b = snapshot_from_file(argv[3]);
            const uint64_t lo = arg(4), hi = arg(5);
            const long aggregations = b.at("nr_aggregations").get<long>() - a.at("nr_aggregations").get<long>();
            std::vector<long> shifts, ages_at_pause;
            int covered = 0, accessed = 0;
            for (int i = 0; i < 256; ++i) {
                const uint64_t addr = lo + (hi - lo) * (2 * i + 1) / 512;
                const json *x = region_at(a, addr), *y = region_at(b, addr);
                if (!x || !y) continue;
                ++covered;
                if (y->at("last_nr_accesses").get<long>() > 0) {
                    ++accessed;
                    continue;
                }
                shifts.push_back(y->at("age").get<long>() - x->at("age").get<long>());
                ages_at_pause.push_back(x->at("age").get<long>());
            }
            if (shifts.empty())
                throw std::runtime_error("no point of the range is covered in both snapshots and unaccessed");
            std::sort(shifts.begin(), shifts.end());
            auto within = [&](long tolerance) {
                const long n = std::count_if(shifts.begin(), shifts.end(), [&](long d) {
                    return d >= aggregations - tolerance && d <= aggregations + tolerance;
                });
                return double(n) / double(shifts.size());
            };
            auto mib = [](const json& snap) {
                uint64_t sum = 0;
                for (const json& t : snap.at("targets"))
                    for (const json& r : t.at("regions"))
                        sum += r.at("end").get<uint64_t>() - r.at("start").get<uint64_t>();
                return sum >> 20;
            };
            std::printf(
                "aggregations=%ld median_shift=%ld exactly=%.2f within_one=%.2f within_two=%.2f "
                "within_four=%.2f accessed=%.2f monitored_mib=%llu/%llu",
                aggregations, shifts[shifts.size() / 2], within(0), within(1), within(2), within(4),
                double(accessed) / double(covered), (unsigned long long)mib(a), (unsigned long long)mib(b));
            if (argc == 7) {
                std::sort(ages_at_pause.begin(), ages_at_pause.end());
                const long age = ages_at_pause[ages_at_pause.size() / 2];
                const long paused = long(arg(6));
                const long low = aggregations - age / 2, high = aggregations + paused / 2;
                const long n =
                    std::count_if(shifts.begin(), shifts.end(), [&](long d) { return d >= low && d <= high; });
                std::printf(" age_at_pause=%ld band_low=%ld band_high=%ld in_band=%.2f", age, low, high,
                            double(n) / double(shifts.size()));
            }
            std::printf("\n");
            return 0;
        }
        if (cmd == "regions" && argc == 4) {  // one line per region overlapping the range
            const json snap = snapshot_from_stdin();
            for (const json& t : snap.at("targets"))
                for (const json& r : t.at("regions"))
                    if (r.at("end").get<uint64_t>() > arg(2) && r.at("start").get<uint64_t>() < arg(3))
                        std::printf("%#llx-%#llx age=%u last_nr=%u\n",
                                    (unsigned long long)r.at("start").get<uint64_t>(),
                                    (unsigned long long)r.at("end").get<uint64_t>(), r.at("age").get<unsigned>(),
                                    r.at("last_nr_accesses").get<unsigned>());
            return 0;
        }
        if (cmd == "apps-check" && argc == 5) return apps_check(argv[2], argv[3], argv[4]);
        if (cmd == "ctxt-switches" && argc == 5) return ctxt_switches(argv[2], argv[3], argv[4]);
        if (cmd == "elapsed-ms" && argc >= 3) return elapsed_ms(argv + 2);
        if (cmd == "cgroups-error" && argc >= 3) {
            const json rows = json::parse(std::cin).at("data");
            double hot_max = 0, cold_max = 0;
            constexpr double kMiB = 1 << 20;
            for (int i = 2; i < argc; ++i) {
                const std::string spec = argv[i];
                const auto a = spec.find(':'), b = spec.rfind(':');
                const std::string name = spec.substr(0, a);
                const double hot = std::stod(spec.substr(a + 1, b - a - 1)), cold = std::stod(spec.substr(b + 1));
                const json* row = nullptr;
                for (const json& r : rows)
                    if (r.at(0) == name) row = &r;
                if (!row) {
                    std::printf("%s missing\n", name.c_str());
                    hot_max = cold_max = std::max(hot_max, 100.0);
                    continue;
                }
                const double h = row->at(1).get<double>() / kMiB, w = row->at(2).get<double>() / kMiB,
                             c = row->at(3).get<double>() / kMiB;
                std::printf("%s hot=%.1f warm=%.1f cold=%.1f MiB (truth hot=%.0f cold=%.0f)\n", name.c_str(), h, w, c,
                            hot, cold);
                hot_max = std::max(hot_max, 100 * std::abs(h - hot) / hot);
                cold_max = std::max(cold_max, 100 * std::abs(c - cold) / cold);
            }
            std::printf("hot_error_pct_max=%.1f cold_error_pct_max=%.1f\n", hot_max, cold_max);
            return 0;
        }
        if (cmd == "stat-p50" && argc == 2) {
            const json stat = json::parse(std::cin).at("data");
            if (!stat.contains("idle_ms_percentiles")) return 1;
            std::printf("%lld\n",
                        static_cast<long long>(stat.at("idle_ms_percentiles").at("data").at(50).get<int64_t>()));
            return 0;
        }
        if (cmd == "kdamond-of" && argc == 4) {  // the kdamond damond's record gives a context
            const auto kd = kdamond_of(json_file(argv[2]));
            auto it = kd.find(argv[3]);
            if (it == kd.end()) return 1;
            std::printf("%u\n", it->second);
            return 0;
        }
        std::fprintf(stderr,
                     "usage: rk-probe hot-cold HS HE CS CE | ages START END | regions START END < busctl-json\n"
                     "       rk-probe age-shift BEFORE.json AFTER.json START END | label NAME\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rk-probe: %s\n", e.what());
        return 1;
    }
}
