#include <gtest/gtest.h>

#include "spec/spec_json.hpp"

using namespace damond;
using nlohmann::json;

namespace {

const json kValid = json::parse(R"({
  "ops": "synthetic",
  "seed": 3,
  "intervals": {"sample_us": 5000, "aggr_us": 100000, "update_us": 1000000},
  "nr_regions": {"min": 10, "max": 100},
  "targets": [{"regions": [{"start": 0, "end": 1048576}],
               "workload": {"seed": 1, "sets": [{"start": 0, "end": 65536, "access_bp": 9000}]}}]
})");

// Applies `patch` (merge patch) to kValid and expects a SpecError at `path`
// whose message contains `rule_fragment`.
void expect_rejected(const json& patch, const std::string& path, const std::string& rule_fragment) {
    json j = kValid;
    j.merge_patch(patch);
    try {
        spec_from_json(j);
        FAIL() << "accepted " << j.dump();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.path(), path) << e.what();
        EXPECT_NE(std::string(e.what()).find(rule_fragment), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(Spec, ValidSpecParses) {
    const ContextSpec s = spec_from_json(kValid);
    EXPECT_EQ(s.ops, Ops::Synthetic);
    EXPECT_EQ(s.seed, 3u);
    EXPECT_EQ(s.intervals.update_us, 1000000u);
    EXPECT_EQ(s.nr_regions.max, 100u);
    ASSERT_EQ(s.targets.size(), 1u);
    ASSERT_TRUE(s.targets[0].workload);
    EXPECT_EQ(s.targets[0].workload->sets[0].access_bp, 9000u);
}

TEST(Spec, DefaultsAreTheKernels) {
    const ContextSpec s = spec_from_json(json{{"ops", "paddr"}});
    EXPECT_EQ(s.intervals.sample_us, 5000u);
    EXPECT_EQ(s.intervals.aggr_us, 100000u);
    EXPECT_EQ(s.intervals.update_us, 60000000u);
    EXPECT_EQ(s.nr_regions.min, 10u);
    EXPECT_EQ(s.nr_regions.max, 1000u);
    EXPECT_FALSE(s.pause);
}

TEST(Spec, RoundTripsThroughCanonicalJson) {
    json j = kValid;
    j["schemes"] = json::parse(R"([{"action": "pageout",
        "access_pattern": {"age": {"min": 5, "max": 100}},
        "quotas": {"ms": 10, "goals": [{"target_metric": "some_mem_psi_us", "target_value": 1000}]},
        "watermarks": {"metric": "free_mem_rate", "interval_us": 1000, "high": 500, "mid": 400, "low": 200},
        "filters": [{"type": "addr", "addr_start": 0, "addr_end": 4096, "allow": true}]}])");
    j["ops"] = "paddr";
    j["targets"][0].erase("workload");
    const ContextSpec s = spec_from_json(j);
    EXPECT_EQ(spec_from_json(spec_to_json(s)), s);
}

TEST(Spec, RejectsUnknownKeys) {
    expect_rejected({{"intervals", {{"sample_usec", 5}}}}, "intervals.sample_usec", "unknown key");
    expect_rejected({{"colour", "red"}}, "colour", "unknown key");
}

TEST(Spec, RejectsWrongTypes) {
    expect_rejected({{"intervals", {{"sample_us", "5000"}}}}, "intervals.sample_us", "must be an unsigned integer");
    expect_rejected({{"pause", 1}}, "pause", "must be a boolean");
    expect_rejected({{"targets", "all"}}, "targets", "must be an array");
    expect_rejected({{"nr_regions", 10}}, "nr_regions", "must be an object");
}

TEST(Spec, RejectsSampleZero) {
    expect_rejected({{"intervals", {{"sample_us", 0}}}}, "intervals.sample_us", "greater than 0");
}

TEST(Spec, RejectsAggrBelowSample) {
    expect_rejected({{"intervals", {{"aggr_us", 1000}}}}, "intervals.aggr_us", "at least intervals.sample_us");
}

TEST(Spec, RejectsMinRegionsBelowThree) {
    expect_rejected({{"nr_regions", {{"min", 2}}}}, "nr_regions.min", "at least 3");
}

TEST(Spec, RejectsMinAboveMax) {
    expect_rejected({{"nr_regions", {{"min", 200}, {"max", 100}}}}, "nr_regions.min", "must not exceed");
    expect_rejected({{"schemes", {{{"action", "stat"}, {"access_pattern", {{"age", {{"min", 9}, {"max", 3}}}}}}}}},
                    "schemes[0].access_pattern.age.min", "must not exceed");
}

TEST(Spec, RejectsUnknownOpsAndAction) {
    expect_rejected({{"ops", "kaddr"}}, "ops", "unknown ops 'kaddr'");
    expect_rejected({{"schemes", {{{"action", "shred"}}}}}, "schemes[0].action", "unknown action 'shred'");
}

TEST(Spec, RejectsNegativeNumbers) {
    expect_rejected({{"intervals", {{"update_us", -1}}}}, "intervals.update_us", "must not be negative");
}

TEST(Spec, RejectsOverflowingNumbers) {
    // 2^64 does not fit the kernel's unsigned long.
    json j = kValid;
    j["intervals"]["aggr_us"] = json::parse("18446744073709551616");
    try {
        spec_from_json(j);
        FAIL();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.path(), "intervals.aggr_us");
        EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
    }
    // nr_accesses and age are u32 in the kernel.
    expect_rejected({{"schemes", {{{"action", "stat"}, {"access_pattern", {{"nr_accesses", {{"max", 4294967296}}}}}}}}},
                    "schemes[0].access_pattern.nr_accesses.max", "out of range");
    expect_rejected({{"intervals", {{"sample_us", 1.5}}}}, "intervals.sample_us", "must be an integer");
}

TEST(Spec, RejectsBadRegions) {
    expect_rejected({{"targets", {{{"regions", {{{"start", 8192}, {"end", 4096}}}}}}}}, "targets[0].regions[0].end",
                    "greater than start");
    expect_rejected({{"targets", {{{"regions", {{{"start", 0}, {"end", 8192}}, {{"start", 4096}, {"end", 16384}}}}}}}},
                    "targets[0].regions[1].start", "must not overlap");
}

TEST(Spec, TargetsFollowOps) {
    expect_rejected({{"ops", "vaddr"}}, "targets[0].pid_target", "required for ops vaddr");
    expect_rejected({{"targets", {{{"pid_target", 42}}}}}, "targets[0].pid_target",
                    "only valid for ops that monitor a process");
    json two = kValid;
    two["ops"] = "paddr";
    two["targets"] = json::parse(R"([{"regions": []}, {"regions": []}])");
    try {
        spec_from_json(two);
        FAIL();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.path(), "targets");
    }
}

TEST(Spec, ChecksIntervalsGoal) {
    expect_rejected(
        {{"intervals",
          {{"intervals_goal", {{"aggrs", 3}, {"access_bp", 400}, {"min_sample_us", 9000}, {"max_sample_us", 1000}}}}}},
        "intervals.intervals_goal.min_sample_us", "must not exceed");
    expect_rejected(
        {{"intervals",
          {{"intervals_goal", {{"aggrs", 3}, {"access_bp", 400}, {"min_sample_us", 6000}, {"max_sample_us", 10000}}}}}},
        "intervals.sample_us", "within intervals_goal");
}

TEST(Spec, ChecksSchemeParts) {
    expect_rejected({{"schemes", {{{"action", "stat"}, {"quotas", {{"goals", {{{"target_metric", "user_input"}}}}}}}}}},
                    "schemes[0].quotas.goals[0].target_value", "greater than 0");
    expect_rejected(
        {{"schemes",
          {{{"action", "stat"},
            {"watermarks", {{"metric", "free_mem_rate"}, {"interval_us", 5}, {"high", 100}, {"mid", 200}}}}}}},
        "schemes[0].watermarks.mid", "must not exceed high");
    expect_rejected({{"schemes", {{{"action", "stat"}, {"filters", {{{"type", "target"}, {"damon_target_idx", 4}}}}}}}},
                    "schemes[0].filters[0].damon_target_idx", "existing target");
    expect_rejected({{"schemes", {{{"action", "stat"}, {"filters", {{{"type", "unknown"}}}}}}}},
                    "schemes[0].filters[0].type", "unknown filter type");
}

TEST(Spec, PatchKeepsUnmentionedFields) {
    const ContextSpec base = spec_from_json(kValid);
    const ContextSpec next = spec_apply_patch(base, R"({"intervals": {"sample_us": 1000, "aggr_us": 20000}})");
    EXPECT_EQ(next.intervals.sample_us, 1000u);
    EXPECT_EQ(next.intervals.aggr_us, 20000u);
    EXPECT_EQ(next.intervals.update_us, base.intervals.update_us);
    EXPECT_EQ(next.targets, base.targets);
}

TEST(Spec, PatchErrorsNameTheField) {
    const ContextSpec base = spec_from_json(kValid);
    try {
        spec_apply_patch(base, R"({"intervals": {"sample_us": 0}})");
        FAIL();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.path(), "intervals.sample_us");
    }
    EXPECT_THROW(spec_apply_patch(base, "{not json"), SpecError);
    EXPECT_THROW(spec_apply_patch(base, "[1]"), SpecError);
}

// Data-attribute probes: paddr only, at most the kernel's 4, anon or memcg
// filters; round-trip through the canonical JSON, absent when none.
TEST(Spec, ProbesAreForPaddrAndKeepToTheKernelsRules) {
    const std::string probe =
        R"({"filters": [{"type": "memcg", "memcg_path": "/system.slice/a.service", "allow": true}]})";
    const ContextSpec s = spec_from_json_text(R"({"ops": "paddr", "probes": [)" + probe + "]}");
    ASSERT_EQ(s.probes.size(), 1u);
    EXPECT_EQ(s.probes[0].filters[0].memcg_path, "/system.slice/a.service");
    EXPECT_TRUE(s.probes[0].filters[0].allow);
    EXPECT_EQ(spec_from_json(spec_to_json(s)), s);
    EXPECT_FALSE(spec_to_json(spec_from_json_text(R"({"ops": "paddr"})")).contains("probes"));
    auto error_at = [](const std::string& text) {
        try {
            spec_from_json_text(text);
        } catch (const SpecError& e) {
            return e.path() + ": " + e.what();
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(error_at(R"({"ops": "vaddr", "probes": [)" + probe + "]}").substr(0, 7), "probes:");
    std::string five = R"({"ops": "paddr", "probes": [)";
    for (int i = 0; i < 5; ++i) five += (i ? "," : "") + probe;
    EXPECT_NE(error_at(five + "]}").find("at most 4 probes"), std::string::npos);
    EXPECT_EQ(
        error_at(R"({"ops": "paddr", "probes": [{"filters": [{"type": "addr", "addr_end": 4096}]}]})").substr(0, 26),
        "probes[0].filters[0].type:");
    EXPECT_EQ(error_at(R"({"ops": "paddr", "probes": [{"filters": []}]})").substr(0, 17), "probes[0].filters");
    EXPECT_EQ(error_at(R"({"ops": "paddr", "probes": [{"filters": [{"type": "memcg"}]}]})").substr(0, 32),
              "probes[0].filters[0].memcg_path:");
}
