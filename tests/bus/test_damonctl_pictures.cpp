// damonctl's pictures as people read them: a real process that keeps 16 MiB
// hot and leaves 48 MiB alone, watched by damond, must show as two bands in
// the heatmap drawn by a real renderer (rsvg-convert) and in the one-page
// report drawn by a real browser (headless Chromium); the zoom finds a small
// working set in a large space; the access report adds up to the snapshot.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "access_report.hpp"
#include "damonctl_fixture.hpp"
#include "heatmap.hpp"
#include "process/workload_process.hpp"

using namespace damond::testing;
using namespace damond::testing::damonctl_fixture;

namespace {

std::string png_pixels() { return env_or("PNG_PIXELS", "tests/support/png_pixels.py"); }

// The heatmap level a pixel's colour is, or -1 for none.
int level_of(const std::string& rrggbb) {
    for (int l = 0; l <= 9; ++l) {
        char c[8];
        std::snprintf(c, sizeof c, "%06x", damonctl::level_colour(l));
        if (rrggbb == c) return l;
    }
    return -1;
}

// The colours of the pixels at `points` ("x,y") of a PNG.
std::vector<std::string> pixels(const std::string& png, const std::vector<std::string>& points) {
    std::vector<std::string> cmd = {png_pixels(), png};
    cmd.insert(cmd.end(), points.begin(), points.end());
    const auto r = run_command(cmd);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::vector<std::string> out;
    std::istringstream in(r.out);
    for (std::string px; in >> px;) out.push_back(px);
    return out;
}

struct Bands {
    size_t hot_first = 0, hot_rows = 0, cold_first = 0, cold_rows = 0;
};

// The longest run of hot rows and of cold ones (level 0), from each row's
// level. Hot is level 2 and up (20 % of samples or more): the workload
// touches its hot area every 20 ms, but on a busy two-core machine (the
// suites run beside each other) it was measured at 30-40 % in a column.
Bands bands_of(const std::vector<int>& levels) {
    Bands b;
    auto longest = [&](auto is, size_t& first, size_t& rows) {
        for (size_t i = 0; i < levels.size();) {
            size_t j = i;
            while (j < levels.size() && is(levels[j])) ++j;
            if (j - i > rows) first = i, rows = j - i;
            i = j > i ? j : i + 1;
        }
    };
    longest([](int l) { return l >= 2; }, b.hot_first, b.hot_rows);
    longest([](int l) { return l == 0; }, b.cold_first, b.cold_rows);
    return b;
}

class DamonctlPictures : public Damonctl {
protected:
    // The README's demo: damond-workload keeping 16 MiB hot beside 48 MiB
    // it leaves alone, and a vaddr context "workload" on it that has had
    // time to find them.
    void start_workload() {
        workload_ = std::make_unique<WorkloadProcess>(
            std::vector<std::string>{"--hot-mib", "16", "--cold-mib", "48", "--period-ms", "20"});
        const json spec = {{"ops", "vaddr"},
                           {"intervals", {{"sample_us", 10000}, {"aggr_us", 200000}, {"update_us", 1000000}}},
                           {"targets", {{{"pid_target", workload_->pid()}}}}};
        ASSERT_EQ(run({"create", "workload", "-"}, dir_.write("workload.json", spec.dump())).code, 0);
        ASSERT_TRUE(wait_until(
            [&] { return context_of(status(), "workload")["nr_aggregations"].get<uint64_t>() >= 25; }, 30000));
    }
    std::unique_ptr<WorkloadProcess> workload_;
};

TEST_F(DamonctlPictures, HeatmapSvgShowsTheWorkloadsHotAndColdAreasAsBands) {
    ASSERT_NO_FATAL_FAILURE(start_workload());
    const std::string svg = dir_.path() + "/workload.svg", png = dir_.path() + "/workload.png";
    const json map = run_json({"heatmap", "workload", "--for", "2s", "--svg", svg});
    ASSERT_EQ(run_command({"rsvg-convert", "-f", "png", "-o", png, svg}).exit_code, 0);
    const json& target = map["targets"][0];
    const size_t rows = target["rows"].size();
    ASSERT_EQ(rows, 20u);
    // Read back from the picture: each row's colour in the last column.
    const json layout = map["svg_layout"];
    const int cw = layout["cell_width"], ch = layout["cell_height"], left = layout["left"];
    const int top = target["svg_top"];
    const int x = left + int(map["column_us"].size() - 1) * cw + cw / 2;
    std::vector<std::string> points;
    for (size_t r = 0; r < rows; ++r)
        points.push_back(std::to_string(x) + "," + std::to_string(top + int(r) * ch + ch / 2));
    std::vector<int> levels;
    for (const std::string& px : pixels(png, points)) levels.push_back(level_of(px));
    ASSERT_EQ(levels.size(), rows);
    const Bands b = bands_of(levels);
    std::string seen;
    for (int l : levels) seen += std::to_string(l);
    EXPECT_GE(b.hot_rows * 5, rows) << "the hot 16 MiB as a band of a fifth of the height: " << seen;
    EXPECT_GE(b.cold_rows * 5, rows) << "the cold 48 MiB as a band of a fifth of the height: " << seen;
    // Where they are: the rows' addresses inside the areas.
    const auto hot = workload_->area("hot"), cold = workload_->area("cold");
    auto inside = [&](size_t row, const damond::AddrRange& area) {
        return target["rows"][row]["start"].get<uint64_t>() >= area.start &&
               target["rows"][row]["end"].get<uint64_t>() <= area.end;
    };
    EXPECT_TRUE(inside(b.hot_first + b.hot_rows / 2, hot)) << seen << "\n" << target["rows"].dump();
    EXPECT_TRUE(inside(b.cold_first + b.cold_rows / 2, cold)) << seen << "\n" << target["rows"].dump();
    // Mappings are marked: the hot area, the guard page and the cold area
    // are three, so rows start new ranges.
    EXPECT_FALSE(target["edges"].empty());
    // Time ticks and the colour scale's labels.
    const std::string text = read_file(svg);
    EXPECT_NE(text.find(">0 s</text>"), std::string::npos) << "a tick at the start";
    EXPECT_NE(text.find(">1 s</text>"), std::string::npos) << "a tick a second in";
    EXPECT_NE(text.find("≥90 %"), std::string::npos) << "the scale's top";
}

TEST_F(DamonctlPictures, TheMapZoomsToASmallWorkingSetAndRangeOverridesIt) {
    // 8 MiB accessed in 1 GiB.
    const json spec = {
        {"ops", "synthetic"},
        {"seed", 1},
        {"intervals", {{"sample_us", 1000}, {"aggr_us", 20000}}},
        {"targets",
         {{{"regions", {{{"start", 0}, {"end", 1ULL << 30}}}},
           {"workload",
            {{"seed", 2}, {"sets", {{{"start", 512ULL << 20}, {"end", 520ULL << 20}, {"access_bp", 9000}}}}}}}}}};
    ASSERT_EQ(run({"create", "big", "-"}, dir_.write("big.json", spec.dump())).code, 0);
    ASSERT_TRUE(wait_until([&] { return context_of(status(), "big")["nr_aggregations"].get<uint64_t>() >= 30; }));
    const json zoomed = run_json({"heatmap", "big", "--for", "100ms"})["targets"][0];
    EXPECT_TRUE(zoomed["zoomed"].get<bool>());
    EXPECT_EQ(zoomed["total_bytes"], 1ULL << 30);
    const uint64_t first = zoomed["rows"].front()["start"], last = zoomed["rows"].back()["end"];
    EXPECT_LE(first, 512ULL << 20);
    EXPECT_GE(last, 520ULL << 20);
    EXPECT_LT(last - first, 256ULL << 20) << "zoomed to the accessed part, not the gigabyte";
    const json all = run_json({"heatmap", "big", "--for", "100ms", "--range", "all"})["targets"][0];
    EXPECT_FALSE(all["zoomed"].get<bool>());
    EXPECT_EQ(all["rows"].front()["start"], 0u);
    EXPECT_EQ(all["rows"].back()["end"], 1ULL << 30);
    const json part = run_json({"heatmap", "big", "--for", "100ms", "--range", "0x1000000-0x2000000"})["targets"][0];
    EXPECT_EQ(part["rows"].front()["start"], 0x1000000u);
    EXPECT_EQ(part["rows"].back()["end"], 0x2000000u);
    const Ran bad = run({"heatmap", "big", "--range", "0x2000-0x1000"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("--range"), std::string::npos) << bad.err;
    EXPECT_EQ(run({"heatmap", "big", "--target", "x"}).code, 2);
    EXPECT_TRUE(run_json({"heatmap", "big", "--for", "100ms", "--target", "1"})["targets"].empty());
}

TEST_F(DamonctlPictures, ReportAddsUpToTheSnapshot) {
    const json snap = paused_demo_snapshot();
    const json r = run_json({"report", "demo"});
    uint64_t total = 0, accessed = 0, max_age = 0;
    for (const json& g : snap["targets"][0]["regions"]) {
        const uint64_t size = g["end"].get<uint64_t>() - g["start"].get<uint64_t>();
        total += size;
        if (g["last_nr_accesses"].get<uint64_t>() > 0)
            accessed += size;
        else
            max_age = std::max(max_age, g["age"].get<uint64_t>());
    }
    EXPECT_EQ(r["total_bytes"], total);
    EXPECT_EQ(r["working_set_bytes"], accessed);
    uint64_t in_histogram = 0;
    for (const json& b : r["idle_histogram"]) in_histogram += b["bytes"].get<uint64_t>();
    EXPECT_EQ(in_histogram, total);
    EXPECT_EQ(r["idle_histogram"][0]["bytes"], accessed) << "the first bucket: accessed";
    EXPECT_EQ(r["by_size"].back()["idle_us"], max_age * 20000) << "p100: the longest idle";
    for (size_t i = 1; i < r["by_size"].size(); ++i)
        EXPECT_GE(r["by_size"][i]["idle_us"].get<uint64_t>(), r["by_size"][i - 1]["idle_us"].get<uint64_t>());
    ASSERT_FALSE(r["hottest"].empty());
    double top = 0;
    for (const json& g : snap["targets"][0]["regions"])
        top = std::max(top, std::min(1.0, g["last_nr_accesses"].get<double>() / 20));
    EXPECT_DOUBLE_EQ(r["hottest"][0]["access_rate"].get<double>(), top);
    ASSERT_EQ(r["schemes"].size(), 1u);
    EXPECT_EQ(r["schemes"][0]["action"], "stat");
    EXPECT_EQ(r["schemes"][0]["nr_tried"], snap["schemes"][0]["stats"]["nr_tried"]);
    const Ran text = run({"report", "demo"});
    ASSERT_EQ(text.code, 0) << text.err;
    for (const char* part : {"working set:", "by size",
                             "memory by idle time:", "hottest regions:", "coldest regions:", "DAMOS applied:", "stat"})
        EXPECT_NE(text.out.find(part), std::string::npos) << part << "\n" << text.out;
    EXPECT_EQ(run({"report", "nosuch"}).code, 3);
}

TEST_F(DamonctlPictures, OnePageLoadsInChromiumAndShowsTheBands) {
    ASSERT_NO_FATAL_FAILURE(start_workload());
    const std::string html = dir_.path() + "/report.html", shot = dir_.path() + "/report.png";
    const Ran made = run({"report", "--html", html, "workload", "--for", "2s"});
    ASSERT_EQ(made.code, 0) << made.err;
    const std::string page = read_file(html);
    // Self-contained: nothing to fetch, nothing to run.
    EXPECT_EQ(page.find("<script"), std::string::npos);
    EXPECT_EQ(page.find(" src="), std::string::npos);
    EXPECT_EQ(page.find("url("), std::string::npos);
    std::string rest = page;
    for (size_t at; (at = rest.find("http://www.w3.org/2000/svg")) != std::string::npos;) rest.erase(at, 26);
    EXPECT_EQ(rest.find("http"), std::string::npos) << "no address to fetch";
    for (const char* part :
         {"id=\"status\"", "context workload", "<h3>heatmap</h3>", "memory by idle time:", "<h3>history</h3>"})
        EXPECT_NE(page.find(part), std::string::npos) << part;
    const std::string profile = dir_.path() + "/chromium";
    const auto browser =
        run_command({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
                     "--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--window-size=1300,1600",
                     "--screenshot=" + shot, "file://" + html});
    ASSERT_EQ(browser.exit_code, 0) << browser.out;
    EXPECT_EQ(browser.out.find("net::ERR_"), std::string::npos) << browser.out;
    EXPECT_EQ(browser.out.find(":CONSOLE("), std::string::npos) << browser.out;
    ASSERT_TRUE(std::filesystem::exists(shot)) << browser.out;
    // The heatmap's first cell is the leftmost ramp-coloured pixel on the
    // page (the colour scale is to its right).
    std::string ramp;
    for (int l = 0; l <= 9; ++l) {
        char c[8];
        std::snprintf(c, sizeof c, "%06x", damonctl::level_colour(l));
        ramp += (l ? "," : "") + std::string(c);
    }
    const auto found = run_command({png_pixels(), shot, "--find", ramp});
    ASSERT_EQ(found.exit_code, 0);
    int x0 = 0, y0 = 0;
    ASSERT_EQ(std::sscanf(found.out.c_str(), "%d,%d", &x0, &y0), 2) << found.out;
    // 20 rows: the layout's row height for them.
    damonctl::Heatmap shape;
    shape.column_us.assign(10, 0);
    shape.targets.resize(1);
    shape.targets[0].rows.resize(20);
    const int ch = damonctl::svg_layout(shape).cell_height;
    std::vector<std::string> points;
    for (int r = 0; r < 20; ++r) points.push_back(std::to_string(x0 + 1) + "," + std::to_string(y0 + r * ch + ch / 2));
    std::vector<int> levels;
    for (const std::string& px : pixels(shot, points)) levels.push_back(level_of(px));
    const Bands b = bands_of(levels);
    std::string seen;
    for (int l : levels) seen += l < 0 ? "?" : std::to_string(l);
    EXPECT_GE(b.hot_rows * 5, 20u) << seen;
    EXPECT_GE(b.cold_rows * 5, 20u) << seen;
    EXPECT_LT(b.hot_first, b.cold_first) << "the hot area lies below the cold one in the address space: " << seen;
}

}  // namespace
