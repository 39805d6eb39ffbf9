// damonctl: the command line for damond. See damonctl(1).
#include <time.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include "bus.hpp"
#include "cli.hpp"
#include "commands.hpp"

namespace damonctl {

namespace {

const char* kHelp = R"(usage: damonctl [--json] COMMAND [ARGS]

  status [--cgroups]              the daemon, its contexts, apps and holds (and memory by cgroup)
  show CONTEXT                    one context: state, spec, DAMOS stats
  pause|resume|remove CONTEXT
  create NAME FILE|-              a context from a spec file (docs/context-spec.md)
  commit CONTEXT FILE|-           a JSON merge patch over the context's spec
  commit CONTEXT key.path=value...  e.g. intervals.aggr_us=200000
  reload                          re-read damond's config
  snapshot CONTEXT                regions (start, end, size, accesses, age) and a summary
  heatmap CONTEXT [--for 10s] [--every 200ms] [--svg FILE] [--rows N] [--columns N]
  watch [--count N]               state changes as they happen
  app list|show|register|foreground|background|unregister ...
  hold [--context CONTEXT] [--why TEXT] -- COMMAND...
                                  pause while COMMAND runs, resume when it ends
  import-damo FILE|- [--name PREFIX] [--dry-run] [--raw|--human]
  export-damo [CONTEXT...] [--raw] [--spec FILE|-]
  heatmap ... [--mode access|age] [--range START-END|all] [--target N]
                                  rows fold unmapped holes and zoom to the accesses
  report CONTEXT                  working set, idle time by size, memory by idle time,
                                  hottest and coldest regions, DAMOS applied
  report --html FILE [CONTEXT...] [--for 10s]
                                  one self-contained page: status, heatmaps, reports, history
  history CONTEXT [--columns N] [--svg FILE]
                                  working set and idle p90 over the last day, pauses marked
  metrics [--format openmetrics|prometheus]
                                  everything damond counts, for Prometheus

--json prints what status, show, snapshot, heatmap, report, history, app list, watch and import print as
JSON. Exit status: 0 done, 1 failed, 2 usage, 3 no such context/app/hold,
4 invalid spec/argument, 5 busy, 6 not supported, 7 limit, 8 denied,
9 damond not reachable; hold exits with COMMAND's status. See damonctl(1).
)";

}  // namespace

std::string read_input(const std::string& file) {
    if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
    std::ifstream in(file);
    if (!in) throw Failure(kInvalid, file + ": cannot read it");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

uint64_t monotonic_us() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
}

std::string Args::option(const std::string& name, const std::string& fallback) {
    const std::string flag = "--" + name;
    for (size_t i = 0; i < words.size() && words[i] != "--"; ++i) {
        if (words[i] == flag) {
            if (i + 1 >= words.size()) throw Failure(kUsage, flag + " needs a value");
            std::string v = words[i + 1];
            words.erase(words.begin() + long(i), words.begin() + long(i) + 2);
            return v;
        }
        if (words[i].rfind(flag + "=", 0) == 0) {
            std::string v = words[i].substr(flag.size() + 1);
            words.erase(words.begin() + long(i));
            return v;
        }
    }
    return fallback;
}

bool Args::flag(const std::string& name) {
    const std::string flag = "--" + name;
    for (size_t i = 0; i < words.size() && words[i] != "--"; ++i)
        if (words[i] == flag) {
            words.erase(words.begin() + long(i));
            return true;
        }
    return false;
}

void Args::expect(size_t n, const std::string& usage, bool at_least) const {
    for (const std::string& w : words)
        if (w.size() > 1 && w[0] == '-' && w != "--")
            throw Failure(kUsage, "unknown option " + w + "\nusage: " + usage);
    if (at_least ? words.size() < n : words.size() != n) throw Failure(kUsage, "usage: " + usage);
}

int cmd_complete(Args& a) {
    a.expect(1, "damonctl complete contexts|apps");
    Damond d;
    if (a.words[0] == "contexts") {
        for (const auto& c : call([&] { return d.manager().ListContexts(); })) std::cout << c.get<0>() << '\n';
    } else if (a.words[0] == "apps") {
        for (const auto& app : call([&] { return d.manager().ListApps(); })) std::cout << app.get<0>() << '\n';
    } else {
        throw Failure(kUsage, "usage: damonctl complete contexts|apps");
    }
    return kOk;
}

}  // namespace damonctl

int main(int argc, char** argv) {
    using namespace damonctl;
    static const std::map<std::string, int (*)(Args&)> commands = {
        {"status", cmd_status},
        {"show", cmd_show},
        {"pause", cmd_pause},
        {"resume", cmd_resume},
        {"remove", cmd_remove},
        {"create", cmd_create},
        {"commit", cmd_commit},
        {"reload", cmd_reload},
        {"snapshot", cmd_snapshot},
        {"heatmap", cmd_heatmap},
        {"watch", cmd_watch},
        {"app", cmd_app},
        {"hold", cmd_hold},
        {"import-damo", cmd_import_damo},
        {"export-damo", cmd_export_damo},
        {"metrics", cmd_metrics},
        {"history", cmd_history},
        {"report", cmd_report},
        {"complete", cmd_complete},
    };
    Args args;
    std::string command;
    bool after_dashes = false;
    for (int i = 1; i < argc; ++i) {
        const std::string w = argv[i];
        if (!after_dashes && w == "--json")
            args.json = true;
        else if (!after_dashes && (w == "-h" || w == "--help")) {
            std::cout << kHelp;
            return kOk;
        } else if (!after_dashes && w == "--version") {
            std::cout << "damonctl " << DAMOND_VERSION << '\n';
            return kOk;
        } else if (command.empty() && !after_dashes)
            command = w;
        else {
            if (w == "--") after_dashes = true;
            args.words.push_back(w);
        }
    }
    auto it = commands.find(command);
    if (it == commands.end()) {
        std::cerr << (command.empty() ? std::string("damonctl: a command is needed\n")
                                      : "damonctl: unknown command '" + command + "'\n")
                  << kHelp;
        return kUsage;
    }
    try {
        return it->second(args);
    } catch (const Failure& f) {
        std::cerr << "damonctl: " << f.what() << '\n';
        return f.code();
    } catch (const sdbus::Error& e) {
        std::cerr << "damonctl: " << e.getMessage() << '\n';
        return exit_code_of(e.getName());
    } catch (const std::exception& e) {
        std::cerr << "damonctl: " << e.what() << '\n';
        return kFailed;
    }
}
