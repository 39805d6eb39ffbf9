// The damonctl tests' fixture: the real damond on a private bus with a
// synthetic context "demo", and damonctl run as a user runs it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "private_bus.hpp"

namespace damond::testing::damonctl_fixture {

using nlohmann::json;

inline const char* const kConfig = R"({
  "backend": "inprocess",
  "profiles": {
    "fine": {"ops": "synthetic", "intervals": {"sample_us": 1000, "aggr_us": 20000},
             "targets": [{"regions": [{"start": 0, "end": 16777216}]}]}
  },
  "apps": {"default": {"foreground": "fine", "background": "fine"}},
  "contexts": {
    "demo": {
      "ops": "synthetic", "seed": 1,
      "intervals": {"sample_us": 1000, "aggr_us": 20000},
      "nr_regions": {"min": 10, "max": 100},
      "targets": [{"regions": [{"start": 0, "end": 67108864}, {"start": 134217728, "end": 167772160}],
                   "workload": {"seed": 3, "sets": [{"start": 0, "end": 4194304, "access_bp": 9000},
                                                    {"start": 150994944, "end": 159383552, "access_bp": 4000}]}}],
      "schemes": [{"action": "stat", "access_pattern": {"age": {"min": 2, "max": 1000}}}]
    }
  }
})";

struct Ran {
    int code = -1;
    std::string out, err;
};

inline std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

inline std::string fixtures() { return env_or("DAMO_FIXTURES", "tests/fixtures/damo"); }
inline std::string damonctl_path() { return env_or("DAMONCTL", "damonctl"); }

class Damonctl : public ::testing::Test {
protected:
    void SetUp() override {
        bus_ = std::make_unique<PrivateBus>();
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
        damond_ = start_damond(*bus_, dir_.write("damond.json", kConfig), dir_.path() + "/damond.log");
        ASSERT_TRUE(damond_) << read_file(dir_.path() + "/damond.log");
    }
    void TearDown() override {
        if (damond_) {
            damond_->signal(SIGTERM);
            EXPECT_EQ(damond_->wait_exit(10000), 0);
        }
        if (HasFailure()) std::cerr << "--- damond log ---\n" << read_file(dir_.path() + "/damond.log");
    }

    // damonctl with `args`: its exit code, stdout and stderr apart.
    Ran run(const std::vector<std::string>& args, const std::string& stdin_file = "") {
        std::string cmd = quote(damonctl_path());
        for (const std::string& a : args) cmd += " " + quote(a);
        const std::string err = dir_.path() + "/stderr";
        cmd += " 2>" + quote(err) + (stdin_file.empty() ? " </dev/null" : " <" + quote(stdin_file));
        Ran r;
        FILE* f = popen(cmd.c_str(), "r");
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
        const int status = pclose(f);
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.err = read_file(err);
        return r;
    }
    json run_json(const std::vector<std::string>& args) {
        std::vector<std::string> a = {"--json"};
        a.insert(a.end(), args.begin(), args.end());
        const Ran r = run(a);
        EXPECT_EQ(r.code, 0) << r.err;
        return json::parse(r.out);
    }
    json status() { return run_json({"status"}); }
    json context_of(const json& s, const std::string& name) {
        for (const json& c : s["contexts"])
            if (c["name"] == name) return c;
        return nullptr;
    }
    // Runs demo until it has aggregated a few times, then pauses it, so
    // its snapshots stay what they are.
    json paused_demo_snapshot() {
        EXPECT_TRUE(wait_until([&] { return context_of(status(), "demo")["nr_aggregations"].get<uint64_t>() >= 10; }));
        EXPECT_EQ(run({"pause", "demo"}).code, 0);
        return run_json({"snapshot", "demo"});
    }
    std::string fixture_with_pids(const std::string& name, const std::map<std::string, pid_t>& pids) {
        std::string text = read_file(fixtures() + "/" + name);
        for (const auto& [from, to] : pids)
            for (size_t at; (at = text.find("\"pid\": " + from)) != std::string::npos;)
                text.replace(at, 7 + from.size(), "\"pid\": " + std::to_string(to));
        return dir_.write(name, text);
    }

    TempDir dir_;
    std::unique_ptr<PrivateBus> bus_;
    std::unique_ptr<Child> damond_;
};

}  // namespace damond::testing::damonctl_fixture
