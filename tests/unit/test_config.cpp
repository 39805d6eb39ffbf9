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
