#include <gtest/gtest.h>

#include <fstream>

#include "manager/config.hpp"
#include "spec/spec_error.hpp"

using namespace damond;

TEST(Config, ParsesContexts) {
    const Config c = config_from_json_text(R"({"backend": "inprocess",
        "contexts": {"a": {"ops": "synthetic"}, "b": {"ops": "paddr"}}})");
    EXPECT_EQ(c.backend, "inprocess");
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
