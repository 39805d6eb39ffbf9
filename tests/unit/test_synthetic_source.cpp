// The synthetic source's workload models and its reproduced defects.
#include <gtest/gtest.h>

#include "core/damon_core.hpp"
#include "core/synthetic_source.hpp"
#include "spec/spec_json.hpp"

using namespace damond;

namespace {

constexpr uint64_t MiB = 1 << 20;

// Fraction of `samples` intervals in which the source reports page `addr` accessed.
double seen_rate(const SyntheticSource& s, uint64_t addr, uint64_t from, uint64_t samples) {
    uint64_t hits = 0;
    for (uint64_t i = from; i < from + samples; ++i) hits += s.accessed(0, addr, i);
    return double(hits) / double(samples);
}

SyntheticTarget one_phase(std::vector<SyntheticSet> sets, SyntheticDefects d = {}) {
    return SyntheticTarget{3, {SyntheticPhase{0, std::move(sets)}}, std::move(d)};
}

}  // namespace

TEST(SyntheticSource, TouchesEachPageWithItsSetsProbability) {
    SyntheticSource s({one_phase({{{0, MiB}, 8000}, {{2 * MiB, 3 * MiB}, 1000}})});
    EXPECT_EQ(s.access_bp_at(0, 4096), 8000u);
    EXPECT_EQ(s.access_bp_at(0, MiB + 4096), 0u);
    EXPECT_NEAR(seen_rate(s, 4096, 0, 20000), 0.8, 0.02);
    EXPECT_NEAR(seen_rate(s, 2 * MiB, 0, 20000), 0.1, 0.02);
    EXPECT_EQ(seen_rate(s, MiB + 4096, 0, 20000), 0.0);
    // A pure function of (seed, page, interval).
    EXPECT_EQ(s.accessed(0, 4096, 77), s.accessed(0, 4096, 77));
}

TEST(SyntheticSource, PhasesCycleLikeAnAppGoingForegroundAndBackground) {
    // Foreground: the first MiB is hot; background: the second.
    SyntheticSource s({SyntheticTarget{
        3, {SyntheticPhase{100, {{{0, MiB}, 9000}}}, SyntheticPhase{50, {{{MiB, 2 * MiB}, 9000}}}}, {}}});
    EXPECT_EQ(s.access_bp_at(0, 0, 99), 9000u);
    EXPECT_EQ(s.access_bp_at(0, 0, 100), 0u);
    EXPECT_EQ(s.access_bp_at(0, MiB, 149), 9000u);
    EXPECT_EQ(s.access_bp_at(0, 0, 150), 9000u);  // and round again
    EXPECT_EQ(s.access_bp_at(0, 0, 150 * 7 + 10), 9000u);
}

TEST(SyntheticSource, APhaseThatLastsForeverEndsTheSequence) {
    SyntheticSource s({SyntheticTarget{3, {SyntheticPhase{10, {{{0, MiB}, 9000}}}, SyntheticPhase{0, {}}}, {}}});
    EXPECT_EQ(s.access_bp_at(0, 0, 9), 9000u);
    EXPECT_EQ(s.access_bp_at(0, 0, 10), 0u);
    EXPECT_EQ(s.access_bp_at(0, 0, 100000), 0u);
}

TEST(SyntheticDefects, WriteOnlySeesNothingOfReadOnlySets) {
    SyntheticDefects d;
    d.write_only = true;
    SyntheticSource s({one_phase({{{0, MiB}, 9000, AccessKind::Read},
                                  {{MiB, 2 * MiB}, 9000, AccessKind::Write},
                                  {{2 * MiB, 3 * MiB}, 9000, AccessKind::Both}},
                                 d)});
    EXPECT_FALSE(s.caps().reads);
    EXPECT_EQ(seen_rate(s, 0, 0, 2000), 0.0);  // read-hot, seen as idle
    EXPECT_NEAR(seen_rate(s, MiB, 0, 2000), 0.9, 0.03);
    EXPECT_NEAR(seen_rate(s, 2 * MiB, 0, 2000), 0.9, 0.03);
    EXPECT_EQ(s.access_bp_at(0, 0), 9000u);  // the ground truth still knows
}

TEST(SyntheticDefects, PerMappingSpreadsAMappingsAccessesEvenly) {
    SyntheticDefects d;
    d.mappings = {{0, 8 * MiB}};
    SyntheticSource s({one_phase({{{0, MiB}, 8000}}, d)});
    EXPECT_EQ(s.caps().granularity, Granularity::Mapping);
    // 1 MiB at 80% over 8 MiB: every page looks 10% hot.
    EXPECT_NEAR(seen_rate(s, 4096, 0, 20000), 0.1, 0.01);
    EXPECT_NEAR(seen_rate(s, 7 * MiB, 0, 20000), 0.1, 0.01);
    EXPECT_EQ(seen_rate(s, 9 * MiB, 0, 2000), 0.0);  // outside every mapping and set
}

TEST(SyntheticDefects, MissedAccessesAreLost) {
    SyntheticDefects d;
    d.miss_bp = 5000;
    SyntheticSource s({one_phase({{{0, MiB}, 8000}}, d)});
    EXPECT_NEAR(seen_rate(s, 4096, 0, 20000), 0.4, 0.02);
}

TEST(SyntheticDefects, TheCoreFollowsThePhases) {
    ManualClock clock;
    NoSystemMetrics metrics;
    // 20 samples per window; each phase lasts 20 windows.
    auto source = std::make_unique<SyntheticSource>(std::vector<SyntheticTarget>{SyntheticTarget{
        3, {SyntheticPhase{400, {{{0, 4 * MiB}, 9000}}}, SyntheticPhase{400, {{{12 * MiB, 16 * MiB}, 9000}}}}, {}}});
    DamonCore core(MonitoringAttrs{1000, 20000, 1000000, 10, 200, {}}, {{{0, 16 * MiB}}}, {}, std::move(source), 1,
                   clock, metrics);
    core.start();
    auto mean = [&](uint64_t lo, uint64_t hi) {
        double sum = 0, size = 0;
        for (const Region& r : core.context().targets[0].regions) {
            const uint64_t a = std::max(r.start, lo), e = std::min(r.end, hi);
            if (a < e) sum += double(r.last_nr_accesses) * double(e - a), size += double(e - a);
        }
        return sum / size;
    };
    auto run = [&](int samples) {
        for (int i = 0; i < samples; ++i) {
            core.prepare_sample();
            core.finish_sample();
        }
    };
    run(390);
    EXPECT_GT(mean(0, 4 * MiB), 14.0);
    EXPECT_LT(mean(12 * MiB, 16 * MiB), 1.0);
    run(400);
    EXPECT_LT(mean(0, 4 * MiB), 1.0);
    EXPECT_GT(mean(12 * MiB, 16 * MiB), 14.0);
}

TEST(SyntheticSpec, PhasesDefectsAndKindsRoundTripAndAreChecked) {
    const char* text = R"({"ops": "synthetic", "targets": [{"regions": [{"start": 0, "end": 16777216}],
        "workload": {"seed": 2,
                     "phases": [{"duration_samples": 100, "sets": [{"start": 0, "end": 4096, "access_bp": 10, "kind": "read"}]},
                                {"duration_samples": 0, "sets": []}],
                     "defects": {"write_only": true, "mappings": [{"start": 0, "end": 8192}], "miss_bp": 3}}}]})";
    const ContextSpec spec = spec_from_json_text(text);
    ASSERT_TRUE(spec.targets[0].workload);
    EXPECT_EQ(spec.targets[0].workload->phases.size(), 2u);
    EXPECT_EQ(spec.targets[0].workload->phases[0].sets[0].kind, AccessKind::Read);
    EXPECT_TRUE(spec.targets[0].workload->defects.write_only);
    EXPECT_EQ(spec_from_json(spec_to_json(spec)), spec);

    auto rejected_at = [](const std::string& body) {
        try {
            spec_from_json_text(R"({"ops": "synthetic", "targets": [{"regions": [], "workload": )" + body + "}]}");
        } catch (const SpecError& e) {
            return e.path();
        }
        return std::string("accepted");
    };
    EXPECT_EQ(rejected_at(R"({"sets": [{"start": 0, "end": 4096}], "phases": [{"sets": []}]})"),
              "targets[0].workload.phases");
    EXPECT_EQ(rejected_at(R"({"phases": [{"duration_samples": 0}, {"duration_samples": 5}]})"),
              "targets[0].workload.phases[0].duration_samples");
    EXPECT_EQ(rejected_at(R"({"sets": [{"start": 0, "end": 4096, "kind": "peek"}]})"),
              "targets[0].workload.sets[0].kind");
    EXPECT_EQ(rejected_at(R"({"defects": {"miss_bp": 10001}})"), "targets[0].workload.defects.miss_bp");
}
