// damonctl as people run it: the real binary against the real damond on a
// private bus. Every command, its --json parsed, exit codes and errors; hold
// releasing however its command ends; damo round trips over the fixtures
// written by damo 3.3.0; the heatmap drawn in a real terminal (tmux) and its
// SVG drawn by a real renderer (rsvg-convert), both compared with what the
// snapshots held.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "damonctl_fixture.hpp"
#include "heatmap.hpp"

using namespace damond::testing;
using namespace damond::testing::damonctl_fixture;

namespace {

// What the test expects of a heatmap row, computed here from one snapshot
// on its own terms: the regions' union with holes folded, cut into `rows`
// equal spans of bytes, each the size-weighted access rate in tenths.
std::vector<int> expected_levels(const json& snap, size_t rows) {
    const double samples =
        double(snap["intervals"]["aggr_us"].get<uint64_t>() / snap["intervals"]["sample_us"].get<uint64_t>());
    std::vector<std::pair<uint64_t, double>> bytes;  // folded: (size, rate) in address order
    for (const json& r : snap["targets"][0]["regions"])
        bytes.emplace_back(r["end"].get<uint64_t>() - r["start"].get<uint64_t>(),
                           std::min(1.0, r["last_nr_accesses"].get<double>() / samples));
    uint64_t span = 0;
    for (const auto& b : bytes) span += b.first;
    std::vector<int> levels;
    for (size_t i = 0; i < rows; ++i) {
        const uint64_t lo = span * i / rows, hi = span * (i + 1) / rows;
        double sum = 0;
        uint64_t at = 0;
        for (const auto& [size, rate] : bytes) {
            const uint64_t a = std::max(lo, at), b = std::min(hi, at + size);
            if (b > a) sum += rate * double(b - a);
            at += size;
        }
        levels.push_back(std::min(9, int(sum / double(hi - lo) * 10.0 + 1e-9)));
    }
    return levels;
}

// The same for --mode age: each row the size-weighted mean of its bytes'
// idle levels (9 accessed in the last aggregation, down to 0 for idle
// 10 min or more), floored.
std::vector<int> expected_age_levels(const json& snap, size_t rows) {
    const uint64_t aggr_us = snap["intervals"]["aggr_us"];
    std::vector<std::pair<uint64_t, int>> bytes;  // folded: (size, level) in address order
    for (const json& r : snap["targets"][0]["regions"]) {
        const uint64_t idle_us = r["last_nr_accesses"].get<uint64_t>() > 0 ? 0 : r["age"].get<uint64_t>() * aggr_us;
        bytes.emplace_back(r["end"].get<uint64_t>() - r["start"].get<uint64_t>(), damonctl::idle_level(idle_us));
    }
    uint64_t span = 0;
    for (const auto& b : bytes) span += b.first;
    std::vector<int> levels;
    for (size_t i = 0; i < rows; ++i) {
        const uint64_t lo = span * i / rows, hi = span * (i + 1) / rows;
        double sum = 0;
        uint64_t at = 0;
        for (const auto& [size, level] : bytes) {
            const uint64_t a = std::max(lo, at), b = std::min(hi, at + size);
            if (b > a) sum += level * double(b - a);
            at += size;
        }
        levels.push_back(std::min(9, int(sum / double(hi - lo) + 1e-9)));
    }
    return levels;
}

}  // namespace

TEST_F(Damonctl, StatusShowsTheDaemonAndEveryContextInTextAndJson) {
    ASSERT_TRUE(wait_until([&] { return context_of(status(), "demo")["nr_aggregations"].get<uint64_t>() > 3; }));
    const json s = status();
    EXPECT_EQ(s["version"], "0.1.0");
    EXPECT_EQ(s["backend"], "inprocess");
    EXPECT_EQ(s["pause_mode"], "inprocess");
    const json demo = context_of(s, "demo");
    EXPECT_EQ(demo["state"], "running");
    EXPECT_EQ(demo["access_source"], "synthetic");
    EXPECT_GE(demo["nr_regions"].get<uint64_t>(), 10u);
    EXPECT_GT(demo["state_for_us"].get<uint64_t>(), 0u);
    const Ran text = run({"status"});
    ASSERT_EQ(text.code, 0) << text.err;
    EXPECT_NE(text.out.find("damond 0.1.0, backend inprocess"), std::string::npos) << text.out;
    // The row of demo: its name, state, for how long, backend, source, counts.
    std::istringstream rows(text.out);
    std::vector<std::string> demo_row;
    for (std::string line; std::getline(rows, line);)
        if (line.rfind("  demo ", 0) == 0) {
            std::istringstream words(line);
            for (std::string w; words >> w;) demo_row.push_back(w);
        }
    ASSERT_EQ(demo_row.size(), 8u) << text.out;
    EXPECT_EQ(demo_row[1], "running");
    EXPECT_TRUE(demo_row[3] == "ms" || demo_row[3] == "s") << text.out;
    EXPECT_EQ(demo_row[4], "inprocess");
    EXPECT_EQ(demo_row[5], "synthetic");
    EXPECT_GE(std::stoull(demo_row[6]), 10u) << "regions: at least nr_regions.min";
    EXPECT_GT(std::stoull(demo_row[7]), 3u) << "aggregations";

    const json show = run_json({"show", "demo"});
    EXPECT_EQ(show["spec"]["ops"], "synthetic");
    ASSERT_EQ(show["schemes"].size(), 1u);
    EXPECT_TRUE(show["schemes"][0]["stats"].contains("nr_tried"));
    const Ran show_text = run({"show", "demo"});
    EXPECT_NE(show_text.out.find("access source: synthetic"), std::string::npos) << show_text.out;
    EXPECT_NE(show_text.out.find("  0  stat"), std::string::npos) << show_text.out;
}

TEST_F(Damonctl, PausedForHowLongCountsFromThePause) {
    ASSERT_EQ(run({"pause", "demo"}).code, 0);
    const uint64_t first = context_of(status(), "demo")["state_for_us"];
    usleep(300000);
    const json demo = context_of(status(), "demo");
    EXPECT_EQ(demo["state"], "paused");
    EXPECT_GE(demo["state_for_us"].get<uint64_t>(), first + 300000);
    EXPECT_LT(demo["state_for_us"].get<uint64_t>(), first + 5000000);
}

TEST_F(Damonctl, ContextCommandsAndTheirExitCodes) {
    EXPECT_EQ(run({"pause", "demo"}).code, 0);
    EXPECT_EQ(context_of(status(), "demo")["state"], "paused");
    EXPECT_EQ(run({"resume", "demo"}).code, 0);
    EXPECT_EQ(context_of(status(), "demo")["state"], "running");

    const Ran missing = run({"pause", "nope"});
    EXPECT_EQ(missing.code, 3);
    EXPECT_NE(missing.err.find("no context named 'nope'"), std::string::npos) << missing.err;
    EXPECT_EQ(run({"pause"}).code, 2);
    EXPECT_EQ(run({"frobnicate"}).code, 2);
    EXPECT_EQ(run({"status", "--colour"}).code, 2);

    const std::string spec =
        dir_.write("x.json", R"({"ops": "synthetic", "intervals": {"sample_us": 2000, "aggr_us": 40000},
        "targets": [{"regions": [{"start": 0, "end": 1048576}]}]})");
    EXPECT_EQ(run({"create", "x", spec}).code, 0);
    const Ran taken = run({"create", "x", spec});
    EXPECT_EQ(taken.code, 5) << taken.err;
    const Ran from_stdin = run({"create", "y", "-"}, spec);
    EXPECT_EQ(from_stdin.code, 0) << from_stdin.err;
    const Ran bad = run({"create", "z", "-"}, dir_.write("bad.json", R"({"ops": "synthetic", "colour": 1})"));
    EXPECT_EQ(bad.code, 4);
    EXPECT_NE(bad.err.find("colour: unknown key"), std::string::npos) << bad.err;
    EXPECT_EQ(run({"remove", "y"}).code, 0);
    EXPECT_TRUE(context_of(status(), "y").is_null());
    EXPECT_EQ(run({"reload"}).code, 0);
    EXPECT_EQ(context_of(status(), "demo")["state"], "running");

    // No damond on the bus: 9, said so.
    PrivateBus empty;
    setenv("DBUS_SYSTEM_BUS_ADDRESS", empty.address().c_str(), 1);
    const Ran away = run({"status"});
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
    EXPECT_EQ(away.code, 9);
    EXPECT_NE(away.err.find("damond is not running"), std::string::npos) << away.err;
}

TEST_F(Damonctl, CommitTakesFilesAndAssignmentsAllOrNothing) {
    EXPECT_EQ(run({"commit", "demo", "intervals.aggr_us=40000", "schemes.0.quotas.bytes=1048576"}).code, 0);
    json spec = run_json({"show", "demo"})["spec"];
    EXPECT_EQ(spec["intervals"]["aggr_us"], 40000);
    EXPECT_EQ(spec["schemes"][0]["quotas"]["bytes"], 1048576);
    EXPECT_EQ(spec["schemes"][0]["action"], "stat");  // the rest of the list kept

    // One bad assignment: nothing changes, and the error names the field.
    const Ran bad = run({"commit", "demo", "intervals.aggr_us=80000", "intervals.sample_us=0"});
    EXPECT_EQ(bad.code, 4);
    EXPECT_NE(bad.err.find("intervals.sample_us"), std::string::npos) << bad.err;
    EXPECT_EQ(run_json({"show", "demo"})["spec"]["intervals"]["aggr_us"], 40000);
    const Ran past = run({"commit", "demo", "schemes.5.action=stat"});
    EXPECT_EQ(past.code, 4);
    EXPECT_NE(past.err.find("schemes.5"), std::string::npos) << past.err;
    EXPECT_EQ(run({"commit", "demo", "intervals.aggr_us=null"}).code, 0);
    EXPECT_EQ(run_json({"show", "demo"})["spec"]["intervals"]["aggr_us"], 100000);  // the default

    const std::string patch = dir_.write("patch.json", R"({"nr_regions": {"max": 200}})");
    EXPECT_EQ(run({"commit", "demo", patch}).code, 0);
    EXPECT_EQ(run_json({"show", "demo"})["spec"]["nr_regions"]["max"], 200);
    EXPECT_EQ(run({"commit", "demo", "-"}, dir_.write("p2.json", R"({"nr_regions": {"max": 300}})")).code, 0);
    EXPECT_EQ(run_json({"show", "demo"})["spec"]["nr_regions"]["max"], 300);
}

TEST_F(Damonctl, SnapshotTableAndSummaryMatchTheJson) {
    const json snap = paused_demo_snapshot();
    uint64_t total = 0, accessed = 0;
    size_t regions = 0;
    for (const json& r : snap["targets"][0]["regions"]) {
        const uint64_t size = r["end"].get<uint64_t>() - r["start"].get<uint64_t>();
        total += size;
        if (r["last_nr_accesses"].get<uint32_t>()) accessed += size;
        ++regions;
    }
    const Ran text = run({"snapshot", "demo"});
    ASSERT_EQ(text.code, 0) << text.err;
    size_t rows = 0;
    std::istringstream lines(text.out);
    for (std::string line; std::getline(lines, line);)
        if (line.find_first_not_of(' ') != std::string::npos && line.compare(line.find_first_not_of(' '), 2, "0x") == 0)
            ++rows;
    EXPECT_EQ(rows, regions);
    EXPECT_NE(text.out.find("total 96.00 MiB"), std::string::npos) << text.out;
    EXPECT_EQ(total, 96u << 20);
    EXPECT_NE(text.out.find("(" + std::to_string(accessed * 100 / total) + " %)"), std::string::npos) << text.out;
    EXPECT_GT(accessed, 0u);
    EXPECT_EQ(run_json({"snapshot", "demo"}), snap);  // paused: the same
}

TEST_F(Damonctl, HeatmapInARealTerminalShowsWhatTheSnapshotsHeld) {
    const json snap = paused_demo_snapshot();
    const std::vector<int> expected = expected_levels(snap, 12);
    ASSERT_NE(*std::max_element(expected.begin(), expected.end()), 0) << "the workload's hot set must show";
    // The map in a 160-column tmux: its text, and its colour escapes as
    // tmux keeps them.
    auto draw = [&](const std::string& colorterm, std::string& screen, std::string& coloured) {
        // A server of its own each time: one just killed may still hold its socket.
        static int draws = 0;
        const std::string sock = "damonctl-test-" + std::to_string(getpid()) + "-" + std::to_string(++draws);
        const std::string cmd = "env -u COLORTERM " + colorterm + " DBUS_SYSTEM_BUS_ADDRESS=" + bus_->address() + " " +
                                damonctl_path() + " heatmap demo --for 600ms --every 100ms --rows 12; sleep 60";
        const auto started = run_command({"tmux", "-L", sock, "new-session", "-d", "-x", "160", "-y", "40", cmd});
        if (started.exit_code != 0) {
            screen = "tmux new-session: " + started.out;
            return false;
        }
        const bool drawn = wait_until(
            [&] {
                screen = run_command({"tmux", "-L", sock, "capture-pane", "-p"}).out;
                return screen.find("time →") != std::string::npos;
            },
            15000);
        coloured = run_command({"tmux", "-L", sock, "capture-pane", "-p", "-e"}).out;
        run_command({"tmux", "-L", sock, "kill-server"});
        return drawn;
    };
    std::string screen, coloured, screen_rgb, coloured_rgb;
    ASSERT_TRUE(draw("", screen, coloured)) << screen;
    ASSERT_TRUE(draw("COLORTERM=truecolor", screen_rgb, coloured_rgb)) << screen_rgb;
    // Each row: its address (14 characters), a space (or ┤ where a range
    // starts), then one cell per snapshot, as wide as the terminal allows:
    // (160 - 16) / 7 characters.
    std::vector<std::string> rows;
    std::istringstream lines(screen);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("0x", 0) == 0) rows.push_back(line.substr(line.find_first_of("0123456789", 14)));
    ASSERT_EQ(rows.size(), expected.size()) << screen;
    for (size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].size(), 7u * 20) << "seven snapshots, cells sized to the terminal: " << rows[i];
        EXPECT_EQ(rows[i], std::string(rows[i].size(), char('0' + expected[i]))) << "row " << i << "\n" << screen;
    }
    EXPECT_NE(screen.find("(holes folded)"), std::string::npos) << screen;
    EXPECT_NE(coloured.find("\x1b[48;5;"), std::string::npos) << "a terminal gets the 256-colour palette";
    EXPECT_EQ(coloured.find("\x1b[48;2;"), std::string::npos);
    EXPECT_NE(coloured_rgb.find("\x1b[48;2;"), std::string::npos) << "true colour when COLORTERM says so";
    EXPECT_NE(screen.find("|0 s"), std::string::npos) << "time ticks under the columns\n" << screen;
}

TEST_F(Damonctl, AgeModeColoursEachRowByHowLongItsBytesWereIdle) {
    // Paused long enough for the untouched regions to pass a few levels'
    // edges: ages of 20 ms aggregations.
    EXPECT_TRUE(
        wait_until([&] { return context_of(status(), "demo")["nr_aggregations"].get<uint64_t>() >= 300; }, 20000));
    const json snap = paused_demo_snapshot();
    const std::vector<int> expected = expected_age_levels(snap, 10);
    ASSERT_NE(*std::min_element(expected.begin(), expected.end()), *std::max_element(expected.begin(), expected.end()))
        << "idle and accessed rows both";
    const json map =
        run_json({"heatmap", "demo", "--mode", "age", "--for", "200ms", "--every", "100ms", "--rows", "10"});
    EXPECT_EQ(map["mode"], "age");
    const json& levels = map["targets"][0]["levels"];
    ASSERT_EQ(levels.size(), expected.size());
    for (size_t r = 0; r < expected.size(); ++r)
        for (const json& level : levels[r]) EXPECT_EQ(level.get<int>(), expected[r]) << "row " << r;
    EXPECT_EQ(run({"heatmap", "demo", "--mode", "colour"}).code, 2);
}

TEST_F(Damonctl, HeatmapSvgDrawnByARealRendererHasTheSnapshotsColours) {
    const json snap = paused_demo_snapshot();
    const std::vector<int> expected = expected_levels(snap, 10);
    const std::string svg = dir_.path() + "/map.svg", png = dir_.path() + "/map.png";
    const json map = run_json({"heatmap", "demo", "--for", "300ms", "--every", "100ms", "--rows", "10", "--svg", svg});
    const auto render = run_command({"rsvg-convert", "-f", "png", "-o", png, svg});
    ASSERT_EQ(render.exit_code, 0) << render.out;
    const json layout = map["svg_layout"];
    const int cw = layout["cell_width"], ch = layout["cell_height"], left = layout["left"];
    const int top = map["targets"][0]["svg_top"];
    const size_t columns = map["column_us"].size();
    ASSERT_EQ(columns, 4u);
    std::vector<std::string> cmd = {env_or("PNG_PIXELS", "tests/support/png_pixels.py"), png};
    for (size_t r = 0; r < expected.size(); ++r)
        for (size_t c = 0; c < columns; ++c)
            cmd.push_back(std::to_string(left + int(c) * cw + cw / 2) + "," +
                          std::to_string(top + int(r) * ch + ch / 2));
    const auto pixels = run_command(cmd);
    ASSERT_EQ(pixels.exit_code, 0) << pixels.out;
    std::istringstream in(pixels.out);
    for (size_t r = 0; r < expected.size(); ++r)
        for (size_t c = 0; c < columns; ++c) {
            std::string px;
            in >> px;
            char want[8];
            std::snprintf(want, sizeof want, "%06x", damonctl::level_colour(expected[r]));
            EXPECT_EQ(px, want) << "row " << r << " column " << c << " (level " << expected[r] << ")";
        }
}

TEST_F(Damonctl, WatchPrintsEachChangeAsItHappens) {
    Child watch({damonctl_path(), "--json", "watch", "--count", "3"}, {}, dir_.path() + "/watch.log");
    ASSERT_TRUE(
        wait_until([&] { return read_file(dir_.path() + "/watch.log").find("watching") != std::string::npos; }));
    ASSERT_EQ(run({"pause", "demo"}).code, 0);
    ASSERT_EQ(run({"resume", "demo"}).code, 0);
    ASSERT_EQ(run({"create", "w", "-"}, dir_.write("w.json", R"({"ops": "synthetic",
        "targets": [{"regions": [{"start": 0, "end": 1048576}]}]})"))
                  .code,
              0);
    EXPECT_EQ(watch.wait_exit(10000), 0);
    std::vector<json> events;
    std::istringstream lines(read_file(dir_.path() + "/watch.log"));
    for (std::string line; std::getline(lines, line);)
        if (!line.empty() && line[0] == '{') events.push_back(json::parse(line));
    ASSERT_EQ(events.size(), 3u) << read_file(dir_.path() + "/watch.log");
    EXPECT_EQ(events[0]["name"], "demo");
    EXPECT_EQ(events[0]["event"], "paused");
    EXPECT_EQ(events[1]["event"], "running");
    EXPECT_EQ(events[2]["name"], "w");
    EXPECT_EQ(events[2]["event"], "added");
}

TEST_F(Damonctl, AppsRegisterSwitchListAndGo) {
    EXPECT_EQ(run({"app", "register", "com.example.a"}).code, 0);
    EXPECT_EQ(run({"app", "register", "com.example.b"}).code, 0);
    EXPECT_EQ(run({"app", "foreground", "com.example.a"}).code, 0);
    json list = run_json({"app", "list"});
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]["app_id"], "com.example.a");
    EXPECT_EQ(list[0]["state"], "foreground");
    EXPECT_EQ(list[1]["state"], "background");
    const json s = status();
    EXPECT_EQ(s["foreground_app"], "com.example.a");
    EXPECT_EQ(context_of(s, "com.example.a@foreground")["state"], "running");
    EXPECT_EQ(context_of(s, "com.example.a@background")["state"], "paused");
    EXPECT_EQ(run({"app", "foreground", "com.example.b"}).code, 0);
    EXPECT_EQ(run_json({"app", "list"})[0]["state"], "background");
    EXPECT_NE(run({"app", "list"}).out.find("in the foreground: com.example.b"), std::string::npos);
    EXPECT_EQ(run({"app", "background", "com.example.b"}).code, 0);
    EXPECT_EQ(run_json({"app", "list"})[1]["state"], "background");
    EXPECT_EQ(status()["foreground_app"], "");
    EXPECT_EQ(run({"app", "unregister", "com.example.a"}).code, 0);
    EXPECT_EQ(run_json({"app", "list"}).size(), 1u);
    EXPECT_EQ(run({"app", "foreground", "com.example.gone"}).code, 3);
    EXPECT_EQ(run({"app", "wobble", "x"}).code, 2);
    EXPECT_EQ(run({"app", "register", "x", "--pid", "abc"}).code, 2);
    // show: its state, and what its reclaims did (off by default: nothing yet).
    const json shown = run_json({"app", "show", "com.example.b"});
    EXPECT_EQ(shown["state"], "background");
    EXPECT_EQ(shown["reclaim"]["enabled"], false);
    EXPECT_EQ(shown["reclaim"]["total_bytes"], 0);
    EXPECT_EQ(shown["reclaim"]["last_outcome"], "");
    EXPECT_NE(run({"app", "show", "com.example.b"}).out.find("reclaim: off"), std::string::npos);
    EXPECT_EQ(run({"app", "show", "com.example.gone"}).code, 3);
}

TEST_F(Damonctl, HoldPausesWhileTheCommandRunsAndReleasesHoweverItEnds) {
    // The command sees every context paused and held.
    const std::string seen = dir_.path() + "/seen.json";
    const Ran ok = run({"hold", "--why", "a consistent dump", "--", "sh", "-c",
                        quote(damonctl_path()) + " --json status > " + quote(seen)});
    EXPECT_EQ(ok.code, 0) << ok.err;
    const json during = json::parse(read_file(seen));
    EXPECT_EQ(context_of(during, "demo")["state"], "paused");
    ASSERT_EQ(during["holds"].size(), 1u);
    EXPECT_EQ(during["holds"][0]["why"], "a consistent dump");
    EXPECT_NE(during["holds"][0]["who"].get<std::string>().find("damonctl hold"), std::string::npos);
    // A hold on every context covers each: it is in demo's holds too.
    ASSERT_EQ(context_of(during, "demo")["holds"].size(), 1u);
    EXPECT_EQ(context_of(during, "demo")["holds"][0]["cookie"], during["holds"][0]["cookie"]);
    json after = status();
    EXPECT_TRUE(after["holds"].empty());
    EXPECT_EQ(context_of(after, "demo")["state"], "running");

    // A script over several lines, a long non-ASCII argument and bytes that
    // are not UTF-8: the hold is taken all the same (who made fit for the
    // bus), and the command runs with its arguments as given.
    const std::string shown = dir_.path() + "/shown.json";
    std::string long_arg;
    for (int i = 0; i < 150; ++i) long_arg += "é";
    const Ran multi = run({"hold", "--", "sh", "-c",
                           "true\n" + quote(damonctl_path()) + " --json status > " + quote(shown) + "\ntrue", long_arg,
                           std::string("\xff\xfe")});
    EXPECT_EQ(multi.code, 0) << multi.err;
    const std::string who = json::parse(read_file(shown))["holds"][0]["who"];
    EXPECT_EQ(who.find('\n'), std::string::npos) << who;
    EXPECT_LE(who.size(), 200u);
    EXPECT_EQ(who.substr(who.size() - 3), "...");

    // Fails: its status, released.
    EXPECT_EQ(run({"hold", "--", "sh", "-c", "exit 3"}).code, 3);
    EXPECT_TRUE(status()["holds"].empty());
    // Killed by SIGKILL: 128 + 9, released.
    EXPECT_EQ(run({"hold", "--context", "demo", "--", "sh", "-c", "kill -KILL $$"}).code, 137);
    EXPECT_TRUE(status()["holds"].empty());
    EXPECT_EQ(run({"hold", "--", "/nonexistent/command"}).code, 127);
    EXPECT_TRUE(status()["holds"].empty());
    const Ran nope = run({"hold", "--context", "nope", "--", "true"});
    EXPECT_EQ(nope.code, 3);
    EXPECT_NE(nope.err.find("no context named 'nope'"), std::string::npos) << nope.err;
    EXPECT_EQ(run({"hold", "true"}).code, 2);

    // damonctl itself killed with SIGKILL: its connection goes, damond
    // drops the hold and the context runs again.
    Child holder({damonctl_path(), "hold", "--", "sleep", "20"}, {}, dir_.path() + "/holder.log");
    ASSERT_TRUE(wait_until([&] { return status()["holds"].size() == 1; }));
    EXPECT_EQ(context_of(status(), "demo")["state"], "paused");
    holder.signal(SIGKILL);
    EXPECT_EQ(holder.wait_exit(5000), 128 + SIGKILL);
    EXPECT_TRUE(wait_until([&] { return status()["holds"].empty(); }));
    EXPECT_EQ(context_of(status(), "demo")["state"], "running");
}

TEST_F(Damonctl, EveryDamoFixtureImportsAndTheRawAndHumanFormsAgree) {
    size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(fixtures())) {
        if (e.path().extension() != ".json") continue;
        ++files;
        const Ran r = run({"--json", "import-damo", e.path(), "--dry-run"});
        EXPECT_EQ(r.code, 0) << e.path() << ": " << r.err;
    }
    EXPECT_EQ(files, 5u);
    const json human = run_json({"import-damo", fixtures() + "/vaddr-pageout.json", "--dry-run"});
    const json raw = run_json({"import-damo", fixtures() + "/vaddr-pageout.raw.json", "--dry-run"});
    EXPECT_EQ(human, raw);
    // damo's "--damos_age 30s max" with 100 ms aggregations: 300 intervals;
    // "0 %" accesses: none; "max" age: the kernel's u32.
    EXPECT_EQ(human["damo"]["schemes"][0]["access_pattern"]["age"]["min"], 300);
    EXPECT_EQ(human["damo"]["schemes"][0]["access_pattern"]["age"]["max"], 4294967295u);
    EXPECT_EQ(human["damo"]["schemes"][0]["access_pattern"]["nr_accesses"]["max"], 0);
    EXPECT_EQ(human["damo"]["targets"][0]["pid_target"], 1234);
    const json paddr = run_json({"import-damo", fixtures() + "/paddr-quota-goal-filters.raw.json", "--dry-run"});
    const json& q = paddr["damo"]["schemes"][0]["quotas"];
    EXPECT_EQ(q["bytes"], 100u << 20);
    EXPECT_EQ(q["reset_interval_ms"], 1000);  // written by damo --raw in nanoseconds
    EXPECT_EQ(q["goals"][0]["target_metric"], "some_mem_psi_us");
    EXPECT_EQ(paddr["damo"]["schemes"][0]["access_pattern"]["age"]["min"], 1200);
    EXPECT_EQ(paddr["damo"]["schemes"][0]["filters"][0]["memcg_path"], "/workloads/a");
    const json goal = run_json({"import-damo", fixtures() + "/vaddr-2targets-intervals-goal.json", "--dry-run"});
    EXPECT_EQ(goal["damo"]["intervals"]["intervals_goal"]["access_bp"], 400);
    EXPECT_EQ(goal["damo"]["intervals"]["intervals_goal"]["max_sample_us"], 10000000);
    EXPECT_EQ(goal["damo"]["targets"].size(), 2u);
    EXPECT_EQ(run_json({"import-damo", fixtures() + "/vaddr-paused.raw.json", "--dry-run"})["damo"]["pause"], true);
}

TEST_F(Damonctl, ExportThenImportGivesTheSameSpec) {
    // vaddr fixtures imported for real, on live processes, then exported
    // and imported again: the same spec damond runs.
    Child a({"/bin/sleep", "60"}, {}, dir_.path() + "/a.log");
    Child b({"/bin/sleep", "60"}, {}, dir_.path() + "/b.log");
    const std::map<std::string, pid_t> pids = {{"1234", a.pid()}, {"5678", b.pid()}};
    int n = 0;
    for (const char* name : {"vaddr-pageout.json", "vaddr-pageout.raw.json", "vaddr-2targets-intervals-goal.json",
                             "vaddr-paused.raw.json"}) {
        const std::string ctx = "imp" + std::to_string(n++);
        const Ran imported = run({"import-damo", fixture_with_pids(name, pids), "--name", ctx});
        ASSERT_EQ(imported.code, 0) << name << ": " << imported.err;
        const json spec = run_json({"show", ctx})["spec"];
        for (const std::string form : {"--human", "--raw"}) {
            std::vector<std::string> args = {"export-damo", ctx};
            if (form == "--raw") args.push_back("--raw");
            const Ran exported = run(args);
            ASSERT_EQ(exported.code, 0) << exported.err;
            const std::string file = dir_.write(ctx + form + ".json", exported.out);
            const json again = run_json({"import-damo", file, "--dry-run", form});
            EXPECT_EQ(again["damo"], spec) << name << " " << form << "\n" << exported.out;
            // Without the hint, the form is recognised.
            EXPECT_EQ(run_json({"import-damo", file, "--dry-run"})["damo"], spec) << name << " " << form;
        }
    }
    // paddr runs on the kernel only: round trip through spec files, with a
    // data-attribute probe of each filter type.
    json paddr = run_json({"import-damo", fixtures() + "/paddr-quota-goal-filters.raw.json", "--dry-run"})["damo"];
    paddr["probes"] = json::array(
        {{{"filters",
           json::array(
               {{{"type", "memcg"}, {"matching", true}, {"allow", true}, {"memcg_path", "/system.slice/a.service"}}})}},
         {{"filters", json::array({{{"type", "anon"}, {"matching", false}, {"allow", true}, {"memcg_path", ""}}})}}});
    for (const char* form : {"--human", "--raw"}) {
        std::vector<std::string> args = {"export-damo", "--spec", dir_.write("paddr.json", paddr.dump())};
        if (std::string(form) == "--raw") args.push_back("--raw");
        const Ran exported = run(args);
        ASSERT_EQ(exported.code, 0) << exported.err;
        EXPECT_EQ(run_json({"import-damo", dir_.write("paddr-out.json", exported.out), "--dry-run"})["damo"], paddr)
            << form << "\n"
            << exported.out;
    }
    // A synthetic context has no damo form: refused by name.
    const Ran synthetic = run({"export-damo", "demo"});
    EXPECT_EQ(synthetic.code, 6);
    EXPECT_NE(synthetic.err.find("ops: synthetic"), std::string::npos) << synthetic.err;
}

TEST_F(Damonctl, WhatDamondCannotHonourIsRefusedByNameAndNothingIsHalfImported) {
    json doc = json::parse(read_file(fixtures() + "/vaddr-pageout.json"));
    auto refused = [&](const json& d, const std::string& path) {
        const Ran r = run({"import-damo", dir_.write("r.json", d.dump()), "--dry-run"});
        EXPECT_EQ(r.code, 4) << path;
        EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
    };
    json d = doc;
    d["kdamonds"][0]["refresh_ms"] = 1000;
    refused(d, "kdamonds[0].refresh_ms: must be 0");
    d = doc;
    d["kdamonds"][0]["contexts"][0]["colour"] = "blue";
    refused(d, "kdamonds[0].contexts[0].colour");
    d = doc;
    d["kdamonds"][0]["contexts"].push_back(doc["kdamonds"][0]["contexts"][0]);
    refused(d, "kdamonds[0].contexts: must hold exactly one context");
    d = doc;
    d["kdamonds"][0]["contexts"][0]["addr_unit"] = "4 KiB";
    refused(d, "kdamonds[0].contexts[0].addr_unit");
    d = doc;
    d["kdamonds"][0]["contexts"][0]["schemes"][0]["quotas"]["goal_tuner"] = "temporal";
    refused(d, "kdamonds[0].contexts[0].schemes[0].quotas.goal_tuner");
    d = doc;
    // Probes are imported (7.2+), attributes-only monitoring (7.3 weights) is not.
    d["kdamonds"][0]["contexts"][0]["probes"] = json::array(
        {{{"filters", json::array({{{"filter_type", "anon"}, {"matching", true}, {"allow", true}}})}, {"weight", 3}}});
    refused(d, "kdamonds[0].contexts[0].probes[0].weight: must be 0");
    d = doc;
    d["kdamonds"][0]["contexts"][0]["intervals"]["sample_us"] = "5 parsecs";
    refused(d, "kdamonds[0].contexts[0].intervals.sample_us");
    d = doc;
    // Found by fuzzing: ages in time are divided by the aggregation interval.
    d["kdamonds"][0]["contexts"][0]["intervals"]["aggr_us"] = "0 us";
    refused(d, "kdamonds[0].contexts[0].intervals.aggr_us: must be greater than 0");
    d = doc;
    // And a bound far past 2^64 samples is clamped, not cast.
    d["kdamonds"][0]["contexts"][0]["schemes"][0]["access_pattern"]["nr_accesses"]["max"] =
        "100000000000000000000000000 samples";
    EXPECT_EQ(run_json({"import-damo", dir_.write("big.json", d.dump()),
                        "--dry-run"})["damo"]["schemes"][0]["access_pattern"]["nr_accesses"]["max"],
              4294967295u);
    d = doc;
    d["kdamonds"][0]["contexts"][0]["nr_regions"]["min"] = "1";
    refused(d, "nr_regions.min");  // damond's own rule, through its spec check
    d = doc;
    d["kdamonds"][0]["contexts"][0]["ops"] = 5;
    refused(d, "kdamonds[0].contexts[0].ops: must be a string");
    d = doc;
    d["kdamonds"][0]["contexts"][0]["targets"][0]["regions"] = "all";
    refused(d, "kdamonds[0].contexts[0].targets[0].regions: must be a list");

    // The second kdamond's process does not exist: the first context is
    // removed again.
    Child a({"/bin/sleep", "60"}, {}, dir_.path() + "/a.log");
    d = doc;
    d["kdamonds"][0]["contexts"][0]["targets"][0]["pid"] = a.pid();
    d["kdamonds"].push_back(doc["kdamonds"][0]);
    d["kdamonds"][1]["contexts"][0]["targets"][0]["pid"] = 4194300;
    const Ran half = run({"import-damo", dir_.write("two.json", d.dump()), "--name", "two"});
    EXPECT_NE(half.code, 0);
    EXPECT_NE(half.err.find("context 'two-1'"), std::string::npos) << half.err;
    EXPECT_TRUE(context_of(status(), "two-0").is_null());
}

TEST_F(Damonctl, BashCompletionOffersCommandsAndContextNames) {
    const std::string script = env_or("DAMONCTL_COMPLETION", "damonctl/damonctl.bash");
    auto complete = [&](const std::string& words, int cword) {
        const std::string dir = std::filesystem::path(damonctl_path()).parent_path();
        return run_command({"bash", "-c",
                            "PATH=" + dir + ":$PATH; source " + quote(script) + "; COMP_WORDS=(" + words +
                                "); COMP_CWORD=" + std::to_string(cword) +
                                "; _damonctl; printf '%s\\n' \"${COMPREPLY[@]}\""})
            .out;
    };
    EXPECT_NE(complete("damonctl st", 1).find("status"), std::string::npos);
    EXPECT_NE(complete("damonctl pause ''", 2).find("demo"), std::string::npos);
    EXPECT_NE(complete("damonctl app ''", 2).find("foreground"), std::string::npos);
    EXPECT_EQ(run({"app", "register", "com.example.c"}).code, 0);
    EXPECT_NE(complete("damonctl app foreground ''", 3).find("com.example.c"), std::string::npos);
}

// The shipped bus policy, on a bus that denies like Debian's: everyone sees
// the status; changes need root or the group, and damonctl says so.
TEST(DamonctlPolicy, EveryoneReadsTheStatusOnlyTheAllowedChange) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run damonctl as another user";
    PrivateBus bus(env_or("DAMOND_POLICY", "systemd/org.damond1.conf"));
    TempDir dir;
    chmod(dir.path().c_str(), 0755);
    auto damond = start_damond(bus, dir.write("damond.json", kConfig), dir.path() + "/damond.log");
    ASSERT_TRUE(damond) << read_file(dir.path() + "/damond.log");
    auto as = [&](const std::string& uid, std::vector<std::string> args) {
        std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=" + uid,
                                         "--regid=65534",    "--clear-groups",
                                         "/usr/bin/env",     "DBUS_SYSTEM_BUS_ADDRESS=" + bus.address(),
                                         damonctl_path()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };
    const auto status = as("65534", {"--json", "status"});
    ASSERT_EQ(status.exit_code, 0) << status.out;
    EXPECT_NE(status.out.find("\"demo\""), std::string::npos) << status.out;
    EXPECT_EQ(as("65534", {"show", "demo"}).exit_code, 0);
    EXPECT_EQ(as("65534", {"snapshot", "demo"}).exit_code, 0);
    const auto pause = as("65534", {"pause", "demo"});
    EXPECT_EQ(pause.exit_code, 8) << pause.out;
    EXPECT_NE(pause.out.find("needs root or membership of group 'damond'"), std::string::npos) << pause.out;
    const auto hold = as("65534", {"hold", "--", "true"});
    EXPECT_EQ(hold.exit_code, 8) << hold.out;
    EXPECT_EQ(as("0", {"pause", "demo"}).exit_code, 0);
    damond->signal(SIGTERM);
    EXPECT_EQ(damond->wait_exit(10000), 0);
}
