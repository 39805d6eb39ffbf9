#include <gtest/gtest.h>

#include "bus_label.hpp"

using namespace damond;

TEST(BusLabel, EscapesLikeSystemd) {
    EXPECT_EQ(bus_label_escape("demo"), "demo");
    EXPECT_EQ(bus_label_escape(""), "_");
    EXPECT_EQ(bus_label_escape("org.gnome.Evince"), "org_2egnome_2eEvince");
    EXPECT_EQ(bus_label_escape("1st"), "_31st");
    EXPECT_EQ(bus_label_escape("a_b-c"), "a_5fb_2dc");
    EXPECT_EQ(context_object_path("my app"), "/org/damond1/context/my_20app");
}

TEST(BusLabel, UnescapeInvertsEscape) {
    for (const std::string s : {"demo", "", "org.gnome.Evince", "1st", "a_b-c", "\xff\x01"})
        EXPECT_EQ(bus_label_unescape(bus_label_escape(s)), s);
    EXPECT_FALSE(bus_label_unescape("_zz"));
    EXPECT_FALSE(bus_label_unescape("abc_4"));
}
