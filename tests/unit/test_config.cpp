#include <gtest/gtest.h>

#include <fstream>

#include "manager/config.hpp"
#include "spec/spec_error.hpp"

using namespace damond;

TEST(Config, ParsesContexts) {
    const Config c = config_from_json_text(R"({"backend": "inprocess",
        "contexts": {"a": {"ops": "synthetic"}, "b": {"ops": "paddr"}}})");
    EXPECT_EQ(c.backend, BackendChoice::InProcess);
    ASSERT_EQ(c.contexts.size(), 2u);
    EXPECT_EQ(c.contexts.at("b").ops, Ops::Paddr);
}

TEST(Config, ErrorsNameTheContextAndField) {
    try {
        config_from_json_text(R"({"contexts": {"demo": {"ops": "synthetic", "intervals": {"sample_us": 0}}}})");
        FAIL();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.path(), "contexts.demo.intervals.sample_us");
    }
    EXPECT_THROW(config_from_json_text(R"({"backend": "gpu"})"), SpecError);
    EXPECT_THROW(config_from_json_text(R"({"contxts": {}})"), SpecError);
}

TEST(Config, ShippedDemoConfigIsValid) {
    const Config c = load_config(DAMOND_SOURCE_DIR "/config/demo.json");
    ASSERT_EQ(c.contexts.count("demo"), 1u);
    EXPECT_EQ(c.contexts.at("demo").ops, Ops::Synthetic);
    // A default profile pair, so apps can be registered with empty options.
    EXPECT_EQ(c.apps.default_foreground, "foreground");
    EXPECT_EQ(c.apps.default_background, "background");
}

// The shipped config takes DAMON from DAMON_STAT alone (and serves its
// figures): the pool has a kdamond for the stand-in.
TEST(Config, ShippedConfigTakesDamonFromDamonStatAlone) {
    const Config c = load_config(DAMOND_SOURCE_DIR "/config/damond.json");
    EXPECT_EQ(c.damon_modules, "damon_stat");
    EXPECT_EQ(modules_to_disable(c), std::vector<std::string>{"damon_stat"});
    EXPECT_TRUE(c.system_stat);
    EXPECT_EQ(kernel_pool_size(c), 2 * c.apps.max_apps + 1);
    const Config keep = config_from_json_text(R"({"damon_modules": "keep"})");
    EXPECT_TRUE(modules_to_disable(keep).empty());
    EXPECT_EQ(kernel_pool_size(keep), 2 * keep.apps.max_apps);
    EXPECT_EQ(modules_to_disable(config_from_json_text(R"({"damon_modules": "disable"})")).size(), 3u);
    try {
        config_from_json_text(R"({"damon_modules": "stat"})");
        FAIL();
    } catch (const SpecError& e) {
        EXPECT_EQ(e.path(), "damon_modules");
        EXPECT_NE(std::string(e.what()).find("expected keep, damon_stat or disable"), std::string::npos) << e.what();
    }
}

TEST(Config, SystemCgroupsRulesNameTheField) {
    const Config c = config_from_json_text(
        R"({"system_cgroups": {"paths": ["/system.slice/cron.service"], "max": 4, "warm_ms": 1000, "cold_ms": 2000}})");
    EXPECT_EQ(c.system_cgroups.paths, std::vector<std::string>{"/system.slice/cron.service"});
    EXPECT_EQ(c.system_cgroups.max, 4u);
    auto path_of_error = [](const char* text) {
        try {
            config_from_json_text(text);
        } catch (const SpecError& e) {
            return e.path();
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(path_of_error(R"({"system_cgroups": {"paths": ["system.slice"]}})"), "system_cgroups.paths[0]");
    EXPECT_EQ(path_of_error(R"({"system_cgroups": {"paths": ["/a", "/a/../b"]}})"), "system_cgroups.paths[1]");
    EXPECT_EQ(path_of_error(R"({"system_cgroups": {"paths": ["/a/"]}})"), "system_cgroups.paths[0]");
    EXPECT_EQ(path_of_error(R"({"system_cgroups": {"max": 0}})"), "system_cgroups.max");
    EXPECT_EQ(path_of_error(R"({"system_cgroups": {"warm_ms": 5000, "cold_ms": 5000}})"), "system_cgroups.cold_ms");
    EXPECT_EQ(path_of_error(R"({"system_cgroups": {"samples_per_region": 0}})"), "system_cgroups.samples_per_region");
    EXPECT_EQ(path_of_error(R"({"system_cgroups": {"colour": 1}})"), "system_cgroups.colour");
}

// "always": a system-stat context on kernels without DAMON_STAT too, and a
// kdamond for it whatever damon_modules says.
TEST(Config, SystemStatAlways) {
    const Config c = config_from_json_text(R"({"damon_modules": "keep", "system_stat": "always"})");
    EXPECT_TRUE(c.system_stat && c.system_stat_always);
    EXPECT_EQ(kernel_pool_size(c), 2 * c.apps.max_apps + 1);
    EXPECT_EQ(kernel_pool_size(config_from_json_text(R"({"system_stat": false, "damon_modules": "damon_stat"})")),
              2 * c.apps.max_apps);
    EXPECT_THROW(config_from_json_text(R"({"system_stat": "sometimes"})"), SpecError);
}

// The recents' lighter sleep lies between a plain pause's and the deep one.
TEST(Config, RecentAppsSleepBetweenAPlainAndADeepPause) {
    const Config c = config_from_json_text(
        R"({"apps": {"recent_apps": 2}, "kernel": {"deep_pause_interval_ms": 2000, "recent_pause_interval_ms": 200}})");
    EXPECT_EQ(c.apps.recent_apps, 2u);
    EXPECT_EQ(c.recent_pause_interval_ms, 200u);
    auto error_of = [](const char* text) {
        try {
            config_from_json_text(text);
        } catch (const SpecError& e) {
            return e.path() + ": " + e.what();
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(error_of(R"({"kernel": {"recent_pause_interval_ms": 50}})").rfind("kernel.recent_pause_interval_ms", 0),
              0u);
    EXPECT_EQ(error_of(R"({"kernel": {"recent_pause_interval_ms": 1600}})").rfind("kernel.recent_pause_interval_ms", 0),
              0u);
    EXPECT_EQ(error_of(R"({"apps": {"recent_apps": 513}})").rfind("apps.recent_apps", 0), 0u);
}
