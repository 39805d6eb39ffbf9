// The figures damond publishes (Stats, metrics) against ground truth, and
// their text against the exposition formats' rules.
#include <gtest/gtest.h>

#include "base/histogram.hpp"
#include "core/damon_core.hpp"
#include "core/synthetic_source.hpp"
#include "manager/config.hpp"
#include "manager/figure_history.hpp"
#include "metrics/exposition.hpp"
#include "monitor/context_figures.hpp"
#include "spec/spec_error.hpp"

using namespace damond;

namespace {

constexpr uint64_t MiB = 1ULL << 20;

SnapshotRegion region(uint64_t start, uint64_t end, uint32_t last, uint32_t age) {
    SnapshotRegion r;
    r.start = start;
    r.end = end;
    r.last_nr_accesses = last;
    r.age = age;
    return r;
}

}  // namespace

TEST(ContextFigures, PercentilesAreWeightedBySize) {
    MonitorSnapshot s;
    s.aggr_us = 100000;
    // 10 MiB accessed (idle 0), 40 MiB idle for 5 aggregations, 49 MiB for
    // 20, 1 MiB for 100: of 100 MiB, p50 lies in the 5s, p90 and p99 in the
    // 20s (10+40+49 = 99 MiB), the last MiB is the max only.
    s.targets = {{region(0, 10 * MiB, 3, 0), region(10 * MiB, 50 * MiB, 0, 5), region(50 * MiB, 99 * MiB, 0, 20),
                  region(99 * MiB, 100 * MiB, 0, 100)}};
    const ContextFigures f = figures_of(s);
    EXPECT_EQ(f.monitored_bytes, 100 * MiB);
    EXPECT_EQ(f.working_set_bytes, 10 * MiB);
    EXPECT_EQ(f.nr_regions, 4u);
    EXPECT_EQ(f.idle_p50_us, 5 * 100000u);
    EXPECT_EQ(f.idle_p90_us, 20 * 100000u);
    EXPECT_EQ(f.idle_p99_us, 20 * 100000u);
    // An accessed region's age says how long it has been hot, not idle.
    s.targets[0][0].age = 50;
    EXPECT_EQ(figures_of(s).idle_p50_us, 5 * 100000u);
    // One byte more idle for 100 aggregations tips p99 over.
    s.targets[0][3].start -= 1;
    s.targets[0][2].end -= 1;
    EXPECT_EQ(figures_of(s).idle_p99_us, 100 * 100000u);
}

TEST(ContextFigures, NothingMonitoredIsAllZero) {
    const ContextFigures f = figures_of(MonitorSnapshot{});
    EXPECT_EQ(f.monitored_bytes, 0u);
    EXPECT_EQ(f.idle_p99_us, 0u);
}

TEST(ContextFigures, HugeRangesDoNotOverflow) {
    MonitorSnapshot s;
    s.aggr_us = 1000;
    // 2^62 bytes: bytes x 1000 passes 2^64.
    s.targets = {{region(0, 1ULL << 61, 1, 0), region(1ULL << 61, 1ULL << 62, 0, 7)}};
    const ContextFigures f = figures_of(s);
    EXPECT_EQ(f.idle_p50_us, 0u);
    EXPECT_EQ(f.idle_p90_us, 7000u);
}

// Ground truth from the workload's definition: 64 MiB hot of 256, the rest
// never touched. After N aggregations the working set is the hot set and
// every idle byte has been idle since the start.
TEST(ContextFigures, SyntheticWorkloadGivesItsOwnFigures) {
    ManualClock clock;
    NoSystemMetrics metrics;
    std::vector<SyntheticTarget> workload{{3, {SyntheticPhase{0, {{{0, 64 * MiB}, 3000}}}}, {}}};
    MonitoringAttrs attrs{5000, 100000, 1000000, 10, 200, {}};
    DamonCore core(attrs, {{{0, 256 * MiB}}}, {}, std::make_unique<SyntheticSource>(workload), 1, clock, metrics);
    core.start();
    FiguresBuilder builder;
    ContextFigures f;
    uint64_t samples = 0;
    while (core.context().nr_aggregations < 40) {
        core.prepare_sample();
        clock.advance(core.context().attrs.sample_us);
        core.finish_sample();
        samples++;
    }
    figures_of(core.context(), samples, builder, f);
    EXPECT_EQ(f.monitored_bytes, 256 * MiB);
    EXPECT_EQ(f.nr_aggregations, 40u);
    EXPECT_EQ(f.nr_samples, samples);
    EXPECT_NEAR(double(f.working_set_bytes), double(64 * MiB), 0.1 * 64 * MiB);
    // 3/4 idle since the start: p50, p90, p99 all near 40 aggregations.
    const double idle_since_start = 40.0 * 100000;
    for (uint64_t p : {f.idle_p50_us, f.idle_p90_us, f.idle_p99_us})
        EXPECT_NEAR(double(p), idle_since_start, 0.1 * idle_since_start);
    // The same figures as from a snapshot of the same state.
    MonitorSnapshot snap;
    snap.aggr_us = core.context().attrs.aggr_us;
    snap.targets.emplace_back();
    for (const Region& r : core.context().targets[0].regions)
        snap.targets[0].push_back(region(r.start, r.end, r.last_nr_accesses, r.age));
    const ContextFigures g = figures_of(snap);
    EXPECT_EQ(g.working_set_bytes, f.working_set_bytes);
    EXPECT_EQ(g.idle_p90_us, f.idle_p90_us);
}

TEST(Exposition, CountersAreNamedAsEachFormatWants) {
    MetricFamily c{"damond_context_pauses", "counter", "", "Pauses.", {}};
    c.add({{"context", "a"}}, "3");
    const std::string om = render({c}, Exposition::OpenMetrics);
    EXPECT_EQ(om,
              "# HELP damond_context_pauses Pauses.\n# TYPE damond_context_pauses counter\n"
              "damond_context_pauses_total{context=\"a\"} 3\n# EOF\n");
    const std::string prom = render({c}, Exposition::Prometheus);
    EXPECT_EQ(prom,
              "# HELP damond_context_pauses_total Pauses.\n# TYPE damond_context_pauses_total counter\n"
              "damond_context_pauses_total{context=\"a\"} 3\n");
}

TEST(Exposition, UnitsLabelsAndHelpAreEscaped) {
    MetricFamily g{"damond_x_bytes", "gauge", "bytes", "Back\\slash\nnew line \"quoted\".", {}};
    g.add({{"context", "a\"b\\c\nd"}}, "1");
    const std::string om = render({g}, Exposition::OpenMetrics);
    EXPECT_NE(om.find("# HELP damond_x_bytes Back\\\\slash\\nnew line \\\"quoted\\\".\n"), std::string::npos) << om;
    EXPECT_NE(render({g}, Exposition::Prometheus).find("# HELP damond_x_bytes Back\\\\slash\\nnew line \"quoted\".\n"),
              std::string::npos);
    EXPECT_NE(om.find("# UNIT damond_x_bytes bytes\n"), std::string::npos);
    EXPECT_NE(om.find("damond_x_bytes{context=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << om;
    EXPECT_EQ(render({g}, Exposition::Prometheus).find("# UNIT"), std::string::npos);
}

TEST(Exposition, Values) {
    EXPECT_EQ(metric_value(uint64_t(18446744073709551615ULL)), "18446744073709551615");
    EXPECT_EQ(metric_value(0.1), "0.1");
    EXPECT_EQ(metric_value(2.5), "2.5");
    EXPECT_EQ(metric_seconds(0), "0");
    EXPECT_EQ(metric_seconds(1500000), "1.5");
    EXPECT_EQ(metric_seconds(3000001), "3.000001");
}

TEST(Histogram, BucketsAreCumulative) {
    Histogram h({0.001, 0.01, 0.1});
    for (double v : {0.0005, 0.001, 0.005, 0.05, 5.0}) h.observe(v);
    EXPECT_EQ(h.cumulative(0), 2u);  // le is inclusive
    EXPECT_EQ(h.cumulative(1), 3u);
    EXPECT_EQ(h.cumulative(2), 4u);
    EXPECT_EQ(h.cumulative(3), 5u);  // +Inf
    EXPECT_EQ(h.count(), 5u);
    EXPECT_DOUBLE_EQ(h.sum(), 0.0005 + 0.001 + 0.005 + 0.05 + 5.0);
}

TEST(MetricsConfig, FieldsAndTheirRules) {
    const Config c = config_from_json_text(R"({"metrics": {"textfile": "/var/lib/prometheus/node-exporter/damond.prom",
                                                            "interval_ms": 5000, "max_apps": 8}})");
    EXPECT_EQ(c.metrics.textfile, "/var/lib/prometheus/node-exporter/damond.prom");
    EXPECT_EQ(c.metrics.interval_ms, 5000u);
    EXPECT_EQ(c.metrics.max_apps, 8u);
    EXPECT_TRUE(config_from_json_text("{}").metrics.textfile.empty());
    auto rejects = [](const char* text, const char* path, const char* rule_part) {
        try {
            config_from_json_text(text);
            ADD_FAILURE() << text << " was accepted";
        } catch (const SpecError& e) {
            EXPECT_EQ(e.path(), path) << text;
            EXPECT_NE(e.rule().find(rule_part), std::string::npos) << e.rule();
        }
    };
    rejects(R"({"metrics": {"textfile": "damond.prom"}})", "metrics.textfile", "absolute");
    rejects(R"({"metrics": {"textfile": "/tmp/damond.txt"}})", "metrics.textfile", ".prom");
    rejects(R"({"metrics": {"textfile": "/tmp/.prom"}})", "metrics.textfile", ".prom");
    rejects(R"({"metrics": {"interval_ms": 999}})", "metrics.interval_ms", "at least 1000");
    rejects(R"({"metrics": {"every": 1}})", "metrics.every", "");
    rejects(R"({"metrics": {"kernel_readback_ms": 500}})", "metrics.kernel_readback_ms", "0 (never) or at least 1000");
    EXPECT_EQ(config_from_json_text(R"({"metrics": {"kernel_readback_ms": 0}})").metrics.kernel_readback_ms, 0u);
    EXPECT_EQ(config_from_json_text("{}").metrics.kernel_readback_ms, 60000u);
}

TEST(FigureHistory, KeepsFiguresWithinTheirPrecision) {
    for (uint64_t v : std::vector<uint64_t>{0, 1, 4095, 16777216, 3000000, 1ULL << 40, UINT64_MAX / 3}) {
        const uint64_t back = FigureHistory::decode(FigureHistory::encode(v));
        EXPECT_NEAR(double(back), double(v), double(v) * 0.0014 + 1) << v;
    }
    EXPECT_LT(FigureHistory::encode(UINT64_MAX), 0x8000) << "the top bit is the paused flag";
}

TEST(FigureHistory, StepsGapsAndCapacity) {
    constexpr uint64_t step = 60000000;
    FigureHistory h(5, step);
    const uint64_t t0 = 1796000000000000;
    h.record("a", t0, 1 << 20, 5000000, false);
    h.record("a", t0 + 10000000, 2 << 20, 5000000, false);  // within the same step: ignored
    h.record("a", t0 + step, 3 << 20, 6000000, true);
    h.record("a", t0 + 4 * step + 1000, 4 << 20, 7000000, true);  // two steps missed
    auto p = h.points("a");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].unix_us, t0 + 4 * step + 1000 - 4 * step);
    EXPECT_NEAR(double(p[1].working_set_bytes), 3 << 20, 3 << 20 >> 9);
    EXPECT_TRUE(p[1].paused);
    EXPECT_FALSE(p[0].paused);
    EXPECT_EQ(p[2].unix_us, t0 + 4 * step + 1000);
    // Five slots: the oldest goes first.
    h.record("a", t0 + 5 * step, 5 << 20, 0, false);
    p = h.points("a");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_NEAR(double(p[0].working_set_bytes), 3 << 20, 3 << 20 >> 9);
    h.forget("a");
    EXPECT_TRUE(h.points("a").empty());
}

TEST(FigureHistory, SavedAndTakenBackOrRefusedWhole) {
    constexpr uint64_t step = 1000000;
    FigureHistory h(100, step);
    for (int i = 0; i < 50; ++i) {
        h.record("ctx one", 1000000000 + uint64_t(i) * step, uint64_t(i) << 20, uint64_t(i) * 1000, i > 30);
        h.record("b", 1000000000 + uint64_t(i) * step, 7, 8, false);
    }
    const std::string bytes = h.serialize();
    FigureHistory back(100, step);
    ASSERT_EQ(back.load(bytes), "");
    for (const char* name : {"ctx one", "b"}) {
        const auto a = h.points(name), b = back.points(name);
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            EXPECT_EQ(a[i].unix_us, b[i].unix_us);
            EXPECT_EQ(a[i].working_set_bytes, b[i].working_set_bytes);
            EXPECT_EQ(a[i].paused, b[i].paused);
        }
    }
    // Another step: the points would be misplaced.
    FigureHistory other_step(100, 2 * step);
    EXPECT_NE(other_step.load(bytes), "");
    // Every cut is refused, and leaves what was there.
    FigureHistory cut(100, step);
    cut.record("kept", 1, 1, 1, false);
    for (size_t n = 0; n < bytes.size(); n += 7) EXPECT_NE(cut.load(bytes.substr(0, n)), "") << n;
    EXPECT_NE(cut.load(bytes + "x"), "");
    EXPECT_EQ(cut.points("kept").size(), 1u);
    // A smaller capacity keeps the newest.
    FigureHistory small(10, step);
    ASSERT_EQ(small.load(bytes), "");
    EXPECT_EQ(small.points("b").size(), 10u);
    EXPECT_EQ(small.points("b").back().unix_us, h.points("b").back().unix_us);
}
