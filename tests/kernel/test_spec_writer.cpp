// Specs staged into the emulated tree, then started by its "kernel".
#include <gtest/gtest.h>

#include "base/errors.hpp"
#include "damon_tree_model.hpp"
#include "kernel/guarded_tree.hpp"
#include "kernel/kernel_probe.hpp"
#include "kernel/spec_writer.hpp"
#include "spec/spec_json.hpp"

using namespace damond;
using namespace damond::emu;

namespace {

const char* kSpec = R"({
  "ops": "paddr",
  "intervals": {"sample_us": 2000, "aggr_us": 40000, "update_us": 1000000},
  "nr_regions": {"min": 20, "max": 400},
  "targets": [{"regions": [{"start": 4096, "end": 67108864}]}],
  "schemes": [
    {"action": "pageout", "access_pattern": {"age": {"min": 7}},
     "quotas": {"ms": 10, "bytes": 1048576, "reset_interval_ms": 1000},
     "filters": [{"type": "anon", "matching": true, "allow": false},
                 {"type": "addr", "addr_start": 0, "addr_end": 8192, "allow": false}]},
    {"action": "stat"}
  ]
})";

struct Fixture {
    ManualClock clock;
    DamonTreeModel model;
    ModelTree raw{model};
    GuardedTree tree{raw};
    explicit Fixture(const std::string& profile) : model(profile_named(profile), clock) { tree.grow_pool(0, 1); }
    KernelProbe probe() {
        return probe_kernel(tree, FsSysfsTree("/nonexistent"), model.profile().version.to_string(), {0});
    }
    std::string r(const std::string& p) { return raw.read("kdamonds/0/contexts/0/" + p); }
};

}  // namespace

TEST(SpecWriter, StagesEveryFileAndTheKernelStartsIt) {
    Fixture f("6.18");
    const ContextSpec spec = spec_from_json_text(kSpec);
    check_for_kernel(spec, f.probe());
    stage_spec(f.tree, 0, spec);
    EXPECT_EQ(f.r("operations"), "paddr");
    EXPECT_EQ(f.r("monitoring_attrs/intervals/aggr_us"), "40000");
    EXPECT_EQ(f.r("monitoring_attrs/nr_regions/min"), "20");
    EXPECT_EQ(f.r("targets/0/regions/0/start"), "4096");
    EXPECT_EQ(f.r("schemes/nr_schemes"), "2");
    EXPECT_EQ(f.r("schemes/0/action"), "pageout");
    EXPECT_EQ(f.r("schemes/0/access_pattern/age/min"), "7");
    EXPECT_EQ(f.r("schemes/0/quotas/bytes"), "1048576");
    // 6.18 splits the filters: addr to core_filters, anon to ops_filters.
    EXPECT_EQ(f.r("schemes/0/core_filters/nr_filters"), "1");
    EXPECT_EQ(f.r("schemes/0/core_filters/0/type"), "addr");
    EXPECT_EQ(f.r("schemes/0/ops_filters/0/type"), "anon");
    EXPECT_EQ(f.r("schemes/0/ops_filters/0/matching"), "Y");
    f.tree.write("kdamonds/0/state", "on");
    EXPECT_EQ(f.raw.read("kdamonds/0/state"), "on");
}

TEST(SpecWriter, RestagingTruncatesAtTheEndOnly) {
    Fixture f("7.2");
    ContextSpec spec = spec_from_json_text(kSpec);
    stage_spec(f.tree, 0, spec);
    spec.schemes.pop_back();
    spec.schemes[0].access_pattern.age.min = 9;
    spec.pause = true;
    stage_spec(f.tree, 0, spec);
    EXPECT_EQ(f.r("schemes/nr_schemes"), "1");
    EXPECT_EQ(f.r("schemes/0/action"), "pageout");
    EXPECT_EQ(f.r("schemes/0/access_pattern/age/min"), "9");
    EXPECT_EQ(f.r("pause"), "Y");
}

TEST(SpecWriter, OldKernelsGetOneFilterListAndRefuseWhatTheyLack) {
    Fixture f("6.12");
    ContextSpec spec = spec_from_json_text(kSpec);
    stage_spec(f.tree, 0, spec);
    EXPECT_EQ(f.r("schemes/0/filters/nr_filters"), "2");  // one list before 6.15
    EXPECT_EQ(f.r("schemes/0/filters/0/type"), "anon");

    // Features are read from damond's own staged kdamond.
    Fixture old("6.1");
    ContextSpec plain = spec;
    for (Scheme& s : plain.schemes) s.filters.clear();
    stage_spec(old.tree, 0, plain);
    const KernelProbe p = old.probe();
    ASSERT_TRUE(p.features_known);
    auto refused = [&](const ContextSpec& sp) -> std::string {
        try {
            check_for_kernel(sp, p);
        } catch (const DamondError& e) {
            EXPECT_EQ(e.kind(), ErrorKind::NotSupported);
            return e.what();
        }
        return "accepted";
    };
    ContextSpec tuned = plain;
    tuned.intervals.intervals_goal = {400, 3, 1000, 100000};
    EXPECT_EQ(refused(tuned), "intervals.intervals_goal: this kernel has no intervals_goal (Linux 6.15+)");
    EXPECT_EQ(refused(spec), "schemes[0].filters: this kernel has no filters (Linux 6.3+)");
    EXPECT_EQ(refused(plain), "accepted");
    EXPECT_NE(refused(spec_from_json_text(R"({"ops": "synthetic"})")).find("in-process source"), std::string::npos);
}

// Data-attribute probes (7.2+): staged with their filters, the cgroup in
// "path"; a commit without probes removes them; older kernels refuse them.
TEST(SpecWriter, ProbesAreStagedOn72AndRefusedBefore) {
    Fixture f("7.2");
    ContextSpec spec = spec_from_json_text(R"({"ops": "paddr",
        "targets": [{"regions": [{"start": 4096, "end": 67108864}]}],
        "probes": [{"filters": [{"type": "memcg", "memcg_path": "/system.slice/a.service", "allow": true}]},
                   {"filters": [{"type": "anon", "matching": false, "allow": true}]}]})");
    check_for_kernel(spec, f.probe());
    stage_spec(f.tree, 0, spec);
    EXPECT_EQ(f.r("monitoring_attrs/probes/nr_probes"), "2");
    EXPECT_EQ(f.r("monitoring_attrs/probes/0/filters/nr_filters"), "1");
    EXPECT_EQ(f.r("monitoring_attrs/probes/0/filters/0/type"), "memcg");
    EXPECT_EQ(f.r("monitoring_attrs/probes/0/filters/0/path"), "/system.slice/a.service");
    EXPECT_EQ(f.r("monitoring_attrs/probes/0/filters/0/allow"), "Y");
    EXPECT_EQ(f.r("monitoring_attrs/probes/1/filters/0/matching"), "N");
    f.tree.write("kdamonds/0/state", "on");
    EXPECT_EQ(f.raw.read("kdamonds/0/state"), "on");
    spec.probes.clear();
    stage_spec(f.tree, 0, spec);
    EXPECT_EQ(f.r("monitoring_attrs/probes/nr_probes"), "0");

    Fixture old("6.18");
    stage_spec(old.tree, 0, spec);
    const ContextSpec with_probes =
        spec_from_json_text(R"({"ops": "paddr", "probes": [{"filters": [{"type": "anon", "allow": true}]}]})");
    try {
        check_for_kernel(with_probes, old.probe());
        FAIL() << "7.1 took probes";
    } catch (const DamondError& e) {
        EXPECT_STREQ(e.what(), "probes: this kernel has no probes (Linux 7.2+)");
    }
}
