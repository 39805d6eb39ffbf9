// damo's value formats as damonctl reads and writes them, and the heatmap's
// folding, without a bus.
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "damo_units.hpp"
#include "heatmap.hpp"
#include "spec_patch.hpp"

using namespace damonctl;
using namespace damonctl::damo;
using nlohmann::json;

TEST(DamoUnits, ReadsWhatDamoWrites) {
    EXPECT_EQ(parse_time(json("5 ms"), "x", 1000, 1000), 5000u);
    EXPECT_EQ(parse_time(json("1 m 30 s"), "x", 1000, 1000), 90000000u);
    EXPECT_EQ(parse_time(json("1.500 s"), "x", 1000, 1000), 1500000u);
    EXPECT_EQ(parse_time(json("2m"), "x", 1000000, 1000000), 120000u);  // ms field
    EXPECT_EQ(parse_time(json("0 ns"), "x", 1000, 1000), 0u);
    EXPECT_EQ(parse_time(json("max"), "x", 1000, 1000), UINT64_MAX);
    EXPECT_EQ(parse_time(json("5000"), "x", 1000, 1000), 5000u);          // bare: the field's unit
    EXPECT_EQ(parse_time(json("30000000000"), "x", 1000, 1), 30000000u);  // --raw's nanoseconds
    EXPECT_EQ(parse_time(json("18446744073709551615000"), "x", 1000, 1), UINT64_MAX);
    EXPECT_EQ(parse_bytes(json("128.000 MiB"), "x"), 128u << 20);
    EXPECT_EQ(parse_bytes(json("4,294,967,296"), "x"), 4294967296u);
    EXPECT_EQ(parse_bytes(json("100M"), "x"), 100u << 20);
    EXPECT_EQ(parse_bytes(json("1 B"), "x"), 1u);
    EXPECT_EQ(parse_bytes(json(4096), "x"), 4096u);
    EXPECT_EQ(parse_count(json("1,000"), "x"), 1000u);
    EXPECT_EQ(parse_ratio(json("4 %"), "x", 10000), 400u);
    EXPECT_EQ(parse_ratio(json("100 %"), "x", 1000), 1000u);
    EXPECT_EQ(parse_ratio(json("0.15 %"), "x", 1000), 1u);
    EXPECT_EQ(parse_ratio(json("1.000000"), "x", 1000), 1u);
    EXPECT_TRUE(parse_bool(json("Y"), "x"));
    EXPECT_FALSE(parse_bool(json(false), "x"));
}

TEST(DamoUnits, RefusesWhatIsNotAValueNamingThePath) {
    for (const json& bad : {json("5 parsecs"), json("ms"), json("1 m 30"), json(-1), json(true)}) try {
            parse_time(bad, "intervals.sample_us", 1000, 1000);
            ADD_FAILURE() << bad.dump();
        } catch (const ValueError& e) {
            EXPECT_NE(std::string(e.what()).find("intervals.sample_us"), std::string::npos) << e.what();
        }
    EXPECT_THROW(parse_bytes(json("12 XB"), "x"), ValueError);
    EXPECT_THROW(parse_ratio(json("4 permille"), "x", 1000), ValueError);
    EXPECT_THROW(parse_bool(json("perhaps"), "x"), ValueError);
}

TEST(DamoUnits, WhatDamonctlWritesReadsBackExactly) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 20000; ++i) {
        const uint64_t us = rng() >> (rng() % 64);
        EXPECT_EQ(parse_time(json(format_time_us(us)), "x", 1000, 1000), us) << format_time_us(us);
        const uint64_t n = rng() >> (rng() % 64);
        EXPECT_EQ(parse_count(json(format_count(n)), "x"), n) << format_count(n);
        const uint64_t permil = rng() % 100000, bp = rng() % 1000000;
        EXPECT_EQ(parse_ratio(json(format_ratio(permil, 1000)), "x", 1000), permil) << format_ratio(permil, 1000);
        EXPECT_EQ(parse_ratio(json(format_ratio(bp, 10000)), "x", 10000), bp) << format_ratio(bp, 10000);
    }
    EXPECT_EQ(format_time_us(90061000001ULL), "1 d 1 h 1 m 1 s 1 us");
    EXPECT_EQ(format_ratio(450, 10000), "4.5 %");
    EXPECT_EQ(decimal_times_pow10(UINT64_MAX, 6), "18446744073709551615000000");
}

TEST(SpecPatch, AssignmentsBecomeTheSmallestMergePatch) {
    const json spec = json::parse(R"({"intervals": {"sample_us": 5, "aggr_us": 100},
        "schemes": [{"action": "stat", "quotas": {"bytes": 0}}], "pause": false})");
    const json next = assign(spec, {"intervals.aggr_us=200", "schemes.0.quotas.bytes=4096", "pause=true"});
    EXPECT_EQ(merge_patch(spec, next), json::parse(R"({"intervals": {"aggr_us": 200}, "pause": true,
        "schemes": [{"action": "stat", "quotas": {"bytes": 4096}}]})"));
    EXPECT_EQ(assign(spec, {"schemes.0.action=pageout"})["schemes"][0]["action"], "pageout");  // not JSON: a string
    EXPECT_EQ(merge_patch(spec, assign(spec, {"intervals.sample_us=null"})),
              json::parse(R"({"intervals": {"sample_us": null}})"));
    EXPECT_THROW(assign(spec, {"schemes.x.action=stat"}), damonctl::Failure);
    EXPECT_THROW(assign(spec, {"intervals.aggr_us.x=1"}), damonctl::Failure);
    EXPECT_TRUE(is_assignment("intervals.aggr_us=5"));
    EXPECT_FALSE(is_assignment("./x=y.json"));
}
