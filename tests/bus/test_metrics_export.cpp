// damond's metrics as a fleet reads them: the textfile scraped through
// Debian's real prometheus-node-exporter, checked by promtool, the
// OpenMetrics text by the prometheus_client parser, and every figure equal
// to what the bus's Stats property says.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "history_plot.hpp"
#include "private_bus.hpp"

using namespace damond::testing;
using nlohmann::json;

namespace {

std::string config(const std::string& textfile, int max_apps, int history_ms) {
    return R"({
  "backend": "inprocess",
  "profiles": {
    "fine": {"ops": "synthetic", "intervals": {"sample_us": 1000, "aggr_us": 20000},
             "targets": [{"regions": [{"start": 0, "end": 16777216}]}]}
  },
  "apps": {"default": {"foreground": "fine", "background": "fine"}},
  "metrics": {"textfile": ")" +
           textfile + R"(", "interval_ms": 1000, "max_apps": )" + std::to_string(max_apps) +
           R"(, "history_interval_ms": )" + std::to_string(history_ms) + R"(},
  "contexts": {
    "demo": {
      "ops": "synthetic", "seed": 1,
      "intervals": {"sample_us": 1000, "aggr_us": 20000},
      "nr_regions": {"min": 10, "max": 100},
      "targets": [{"regions": [{"start": 0, "end": 67108864}],
                   "workload": {"seed": 3, "sets": [{"start": 0, "end": 16777216, "access_bp": 5000}]}}],
      "schemes": [{"action": "stat", "access_pattern": {"age": {"min": 2, "max": 1000}}}]
    }
  }
})";
}

// A port nobody listens on now.
int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// GET http://127.0.0.1:port/path; the body, "" if nothing answered.
std::string http_get(int port, const std::string& path) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return "";
    }
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, req.data(), req.size()) != ssize_t(req.size())) {
        close(fd);
        return "";
    }
    std::string resp;
    char buf[65536];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) resp.append(buf, size_t(n));
    close(fd);
    const size_t body = resp.find("\r\n\r\n");
    return body == std::string::npos ? "" : resp.substr(body + 4);
}

// Series as "name{labels}" -> value, as written (labels in the text's order).
std::map<std::string, double> series_of(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const size_t space = line.rfind(' ');
        out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
}

// The value of one series, NaN (and a failure naming it) if it is missing.
double value(const std::map<std::string, double>& series, const std::string& name) {
    auto it = series.find(name);
    if (it != series.end()) return it->second;
    ADD_FAILURE() << "no series " << name;
    return std::nan("");
}

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

class MetricsExport : public ::testing::Test {
protected:
    void start(int max_apps = 32, int history_ms = 60000) {
        std::filesystem::create_directories(textdir());
        bus_ = std::make_unique<PrivateBus>();
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
        damond_ = start_damond(*bus_, dir_.write("damond.json", config(textfile(), max_apps, history_ms)),
                               dir_.path() + "/damond.log");
        ASSERT_TRUE(damond_) << read_file(dir_.path() + "/damond.log");
    }
    void TearDown() override {
        if (exporter_) {
            exporter_->signal(SIGTERM);
            exporter_->wait_exit(5000);
        }
        if (damond_) {
            damond_->signal(SIGTERM);
            EXPECT_EQ(damond_->wait_exit(10000), 0);
        }
        if (HasFailure()) std::cerr << "--- damond log ---\n" << read_file(dir_.path() + "/damond.log");
    }
    std::string textdir() const { return dir_.path() + "/textfile"; }
    std::string textfile() const { return textdir() + "/damond.prom"; }
    CommandResult damonctl(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {env_or("DAMONCTL", "damonctl")};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }
    // The Stats property as busctl reads it: key -> number.
    std::map<std::string, double> stats(const std::string& context) {
        const CommandResult r = run_command({"busctl", "--system", "--json=short", "get-property", "org.damond1",
                                             "/org/damond1/context/" + context, "org.damond1.Context", "Stats"});
        EXPECT_EQ(r.exit_code, 0) << r.out;
        std::map<std::string, double> out;
        if (r.exit_code != 0) return out;
        const json reply = json::parse(r.out);  // kept: items() of a temporary would dangle
        for (const auto& [k, v] : reply["data"].items())
            if (v["data"].is_number()) out[k] = v["data"].get<double>();
        // The counts of the same aggregation are properties of their own.
        for (const char* p : {"NrRegions", "NrAggregations"}) {
            const CommandResult n = run_command({"busctl", "--system", "--json=short", "get-property", "org.damond1",
                                                 "/org/damond1/context/" + context, "org.damond1.Context", p});
            if (n.exit_code == 0) out[p] = json::parse(n.out)["data"].get<double>();
        }
        return out;
    }
    // Node exporter with only the textfile collector, on a free port.
    int start_exporter() {
        const int port = free_port();
        exporter_ = std::make_unique<Child>(
            std::vector<std::string>{
                "/usr/bin/prometheus-node-exporter", "--web.listen-address=127.0.0.1:" + std::to_string(port),
                "--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory=" + textdir()},
            std::map<std::string, std::string>{}, dir_.path() + "/node-exporter.log");
        EXPECT_TRUE(wait_until([&] { return !http_get(port, "/metrics").empty(); }, 10000))
            << read_file(dir_.path() + "/node-exporter.log");
        return port;
    }

    TempDir dir_;
    std::unique_ptr<PrivateBus> bus_;
    std::unique_ptr<Child> damond_;
    std::unique_ptr<Child> exporter_;
};

}  // namespace

TEST_F(MetricsExport, TheNodeExporterServesDamondsSeriesWithTheFiguresTheBusReports) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_TRUE(wait_until([&] { return stats("demo")["NrAggregations"] >= 20; }, 10000));
    // Paused, the figures hold still: the textfile's next write must equal
    // the bus's figures exactly.
    ASSERT_EQ(damonctl({"pause", "demo"}).exit_code, 0);
    const std::map<std::string, double> s = stats("demo");
    EXPECT_EQ(s.at("monitored_bytes"), 64.0 * 1048576);
    // Ground truth: 16 MiB of 64 touched, half of the samples; the rest never.
    EXPECT_NEAR(s.at("working_set_bytes"), 16.0 * 1048576, 0.1 * 16 * 1048576);
    const double idle_since_start_us = s.at("NrAggregations") * 20000;
    EXPECT_NEAR(s.at("idle_p90_us"), idle_since_start_us, 0.1 * idle_since_start_us);
    ASSERT_TRUE(wait_until(
        [&] {
            return read_file(textfile())
                       .find("damond_context_pauses_total{context=\"demo\",app=\"\",backend=\"inprocess\"} 1") !=
                   std::string::npos;
        },
        5000))
        << read_file(textfile());

    // damonctl show tells the same figures.
    const CommandResult show = damonctl({"--json", "show", "demo"});
    ASSERT_EQ(show.exit_code, 0) << show.out;
    EXPECT_EQ(json::parse(show.out)["stats"]["working_set_bytes"].get<double>(), s.at("working_set_bytes"));
    const CommandResult show_text = damonctl({"show", "demo"});
    EXPECT_NE(show_text.out.find("working set: "), std::string::npos) << show_text.out;

    const int port = start_exporter();
    const std::string scraped = http_get(port, "/metrics");
    const auto series = series_of(scraped);
    const std::string demo = "{app=\"\",backend=\"inprocess\",context=\"demo\"}";  // the exporter sorts labels
    auto at = [&](const std::string& name) {
        auto it = series.find(name);
        return it == series.end() ? std::nan("") : it->second;
    };
    EXPECT_EQ(at("node_textfile_scrape_error"), 0) << scraped;
    EXPECT_EQ(at("damond_context_monitored_bytes" + demo), s.at("monitored_bytes")) << scraped;
    EXPECT_EQ(at("damond_context_working_set_bytes" + demo), s.at("working_set_bytes"));
    EXPECT_EQ(at("damond_context_regions" + demo), s.at("NrRegions"));
    EXPECT_EQ(at("damond_context_aggregations_total" + demo), s.at("NrAggregations"));
    EXPECT_DOUBLE_EQ(
        at("damond_context_idle_seconds{app=\"\",backend=\"inprocess\",context=\"demo\",percentile=\"50\"}"),
        s.at("idle_p50_us") / 1e6);
    EXPECT_DOUBLE_EQ(
        at("damond_context_idle_seconds{app=\"\",backend=\"inprocess\",context=\"demo\",percentile=\"90\"}"),
        s.at("idle_p90_us") / 1e6);
    EXPECT_DOUBLE_EQ(
        at("damond_context_idle_seconds{app=\"\",backend=\"inprocess\",context=\"demo\",percentile=\"99\"}"),
        s.at("idle_p99_us") / 1e6);
    EXPECT_EQ(at("damond_context_pauses_total" + demo), 1);
    EXPECT_EQ(at("damond_context_state{app=\"\",backend=\"inprocess\",context=\"demo\",state=\"paused\"}"), 1);
    EXPECT_EQ(at("damond_bus_calls_total{method=\"PauseContext\",result=\"ok\"}"), 1);
    // Types survive the collector: counters stay counters, not "untyped".
    EXPECT_NE(scraped.find("# TYPE damond_context_pauses_total counter"), std::string::npos);
    EXPECT_NE(scraped.find("# TYPE damond_switch_duration_seconds histogram"), std::string::npos);
    EXPECT_EQ(scraped.find("untyped"), std::string::npos) << scraped;

    // promtool's checks and lints pass with nothing to say.
    const CommandResult lint =
        run_command({"sh", "-c", "promtool check metrics < " + shell_quote(textfile()) + " 2>&1"});
    EXPECT_EQ(lint.exit_code, 0) << lint.out;
    EXPECT_EQ(lint.out, "");

    // The OpenMetrics form, through a strict parser, has the same figures.
    const CommandResult om = damonctl({"metrics"});
    ASSERT_EQ(om.exit_code, 0) << om.out;
    const std::string om_file = dir_.write("metrics.om", om.out);
    const CommandResult parsed =
        run_command({"/usr/bin/python3", "-c",
                     "import sys\n"
                     "from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse\n"
                     "for f in parse(open(sys.argv[1]).read()):\n"
                     "    for s in f.samples:\n"
                     "        if s.name == 'damond_context_working_set_bytes' and s.labels.get('context') == 'demo':\n"
                     "            print(f.type, f.unit, int(s.value))\n",
                     om_file});
    ASSERT_EQ(parsed.exit_code, 0) << parsed.out;
    EXPECT_EQ(parsed.out, "gauge bytes " + std::to_string(uint64_t(s.at("working_set_bytes"))) + "\n");

    EXPECT_EQ(damonctl({"metrics", "--format", "json"}).exit_code, 2);
    const CommandResult bad = run_command(
        {"busctl", "--system", "call", "org.damond1", "/org/damond1", "org.damond1.Manager", "Metrics", "s", "json"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.out.find("format: unknown format 'json'"), std::string::npos) << bad.out;

    // A stopped damond leaves no file reporting it.
    damond_->signal(SIGTERM);
    EXPECT_EQ(damond_->wait_exit(10000), 0);
    damond_.reset();
    EXPECT_FALSE(std::filesystem::exists(textfile()));
}

TEST_F(MetricsExport, CommitsAndCallsAreCountedByResult) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_EQ(damonctl({"commit", "demo", "nr_regions.max=200"}).exit_code, 0);
    EXPECT_EQ(damonctl({"commit", "demo", "intervals.sample_us=0"}).exit_code, 4);
    const auto s = series_of(damonctl({"metrics", "--format", "prometheus"}).out);
    const std::string demo = "{context=\"demo\",app=\"\",backend=\"inprocess\"";
    EXPECT_EQ(value(s, "damond_context_commits_total" + demo + ",result=\"ok\"}"), 1);
    EXPECT_EQ(value(s, "damond_context_commits_total" + demo + ",result=\"invalid\"}"), 1);
    EXPECT_EQ(value(s, "damond_context_commits_total" + demo + ",result=\"failed\"}"), 0);
    EXPECT_EQ(value(s, "damond_bus_calls_total{method=\"CommitContext\",result=\"InvalidSpec\"}"), 1);
    EXPECT_GE(value(s, "damond_bus_calls_total{method=\"CommitContext\",result=\"ok\"}"), 1);
}

TEST_F(MetricsExport, AppsPastMaxAppsAreLeftOutButCounted) {
    ASSERT_NO_FATAL_FAILURE(start(2));
    for (const char* app : {"com.example.a", "com.example.b", "com.example.c"})
        ASSERT_EQ(damonctl({"app", "register", app}).exit_code, 0);
    // b, then c switched last: a is the least recently switched.
    ASSERT_EQ(damonctl({"app", "foreground", "com.example.b"}).exit_code, 0);
    ASSERT_EQ(damonctl({"app", "foreground", "com.example.c"}).exit_code, 0);
    const std::string text = damonctl({"metrics", "--format", "prometheus"}).out;
    const auto s = series_of(text);
    EXPECT_EQ(value(s, "damond_apps{state=\"foreground\"}") + value(s, "damond_apps{state=\"background\"}"), 3);
    EXPECT_EQ(value(s, "damond_metrics_apps_left_out"), 1);
    EXPECT_EQ(s.count("damond_app_switches_total{app=\"com.example.a\"}"), 0u);
    EXPECT_EQ(text.find("com.example.a"), std::string::npos) << "its contexts are left out too";
    EXPECT_EQ(value(s, "damond_app_switches_total{app=\"com.example.c\"}"), 1);
    EXPECT_EQ(value(s, "damond_app_foreground{app=\"com.example.c\"}"), 1);
    EXPECT_EQ(value(s, "damond_app_foreground{app=\"com.example.b\"}"), 0) << "one foreground app at a time";
    EXPECT_EQ(value(s, "damond_app_switches_total{app=\"com.example.b\"}"), 2);
    EXPECT_GE(value(s, "damond_switch_duration_seconds_count"), 3);
    EXPECT_EQ(value(s, "damond_switch_duration_seconds_bucket{le=\"+Inf\"}"),
              value(s, "damond_switch_duration_seconds_count"));
    EXPECT_EQ(s.count("damond_context_working_set_bytes{context=\"com.example.c@foreground\",app=\"com.example.c\","
                      "backend=\"inprocess\"}"),
              1u)
        << text;

    // Every series config/grafana-dashboard.json plots is one damond writes.
    std::set<std::string> names;
    for (const auto& [series, v] : s) names.insert(series.substr(0, series.find('{')));
    const std::string dashboard = read_file(env_or("DAMOND_DASHBOARD", "config/grafana-dashboard.json"));
    ASSERT_FALSE(dashboard.empty());
    size_t plotted = 0;
    for (size_t at = 0; (at = dashboard.find("damond_", at)) != std::string::npos;) {
        size_t end = at;
        while (end < dashboard.size() &&
               (std::islower(static_cast<unsigned char>(dashboard[end])) || dashboard[end] == '_' ||
                std::isdigit(static_cast<unsigned char>(dashboard[end]))))
            ++end;
        const std::string name = dashboard.substr(at, end - at);
        at = end;
        if (name == "damond_") continue;
        EXPECT_EQ(names.count(name), 1u) << "the dashboard plots " << name << ", which damond does not write";
        ++plotted;
    }
    EXPECT_GE(plotted, 10u);
}

TEST_F(MetricsExport, HistoryShowsTheFiguresBeforeThePause) {
    ASSERT_NO_FATAL_FAILURE(start(32, 1000));
    auto history = [&] {
        const CommandResult r = damonctl({"--json", "history", "demo"});
        EXPECT_EQ(r.exit_code, 0) << r.out;
        return json::parse(r.out);
    };
    ASSERT_TRUE(wait_until([&] { return history()["points"].size() >= 3; }, 10000));
    ASSERT_EQ(damonctl({"pause", "demo"}).exit_code, 0);
    const std::map<std::string, double> s = stats("demo");
    ASSERT_TRUE(wait_until([&] { return history()["points"].back()["paused"] == true; }, 5000));
    const json h = history();
    EXPECT_EQ(h["step_us"], 1000000);
    const json& points = h["points"];
    EXPECT_EQ(points[0]["paused"], false);
    // Paused, the figures hold: the last point is the Stats of now, within
    // the history's precision.
    EXPECT_NEAR(points.back()["working_set_bytes"].get<double>(), s.at("working_set_bytes"),
                s.at("working_set_bytes") * 0.0015);
    EXPECT_NEAR(points.back()["idle_p90_us"].get<double>(), s.at("idle_p90_us"), s.at("idle_p90_us") * 0.0015 + 1);
    for (size_t i = 1; i < points.size(); ++i)
        EXPECT_EQ(points[i]["unix_us"].get<uint64_t>() - points[i - 1]["unix_us"].get<uint64_t>() >= 500000, true);
    const CommandResult text = damonctl({"history", "demo"});
    ASSERT_EQ(text.exit_code, 0) << text.out;
    EXPECT_NE(text.out.find("  working set  "), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("‖"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("paused since about"), std::string::npos) << text.out;
    EXPECT_EQ(damonctl({"history", "nosuch"}).exit_code, 3);

    // The plot, drawn by a real renderer: grey where it was paused (after
    // the last point that was not), white before the pause.
    ASSERT_TRUE(wait_until(
        [&] {
            const json p = history()["points"];
            return p.size() >= 2 && p[p.size() - 2]["paused"] == true;
        },
        5000));
    const std::string svg = dir_.path() + "/history.svg", png = dir_.path() + "/history.png";
    ASSERT_EQ(damonctl({"history", "demo", "--svg", svg}).exit_code, 0);
    ASSERT_EQ(run_command({"rsvg-convert", "-f", "png", "-o", png, svg}).exit_code, 0);
    const json plotted = history();
    const json& pts = plotted["points"];
    size_t first_paused = pts.size();
    while (first_paused > 0 && pts[first_paused - 1]["paused"] == true) --first_paused;
    ASSERT_GT(first_paused, 0u);
    ASSERT_LT(first_paused, pts.size());
    const damonctl::HistoryLayout l;
    const uint64_t t0 = pts.front()["unix_us"], t1 = pts.back()["unix_us"];
    auto x_at = [&](size_t i) { return damonctl::history_x(l, pts[i]["unix_us"].get<uint64_t>(), t0, t1); };
    // Two heights in the working set's plot: the line may cross one.
    const int ya = l.top + 5, yb = l.top + l.plot_height - 3;
    const double paused_x = (x_at(first_paused) + x_at(pts.size() - 1)) / 2;
    const double running_x = (x_at(0) + x_at(first_paused - 1)) / 2;
    auto at = [](double x, int y) { return std::to_string(int(x)) + "," + std::to_string(y); };
    const auto px = run_command({env_or("PNG_PIXELS", "tests/support/png_pixels.py"), png, at(paused_x, ya),
                                 at(paused_x, yb), at(running_x, ya), at(running_x, yb)});
    ASSERT_EQ(px.exit_code, 0) << px.out;
    std::istringstream seen(px.out);
    std::string pa, pb, ra, rb;
    seen >> pa >> pb >> ra >> rb;
    EXPECT_TRUE(pa == "dcdcdc" || pb == "dcdcdc") << pa << " " << pb << " at x " << paused_x;
    EXPECT_TRUE(ra != "dcdcdc" && rb != "dcdcdc") << ra << " " << rb << " at x " << running_x;
    EXPECT_TRUE(ra == "ffffff" || rb == "ffffff") << ra << " " << rb << " at x " << running_x;
}
