// Reading a scheme's tried regions as the kernel lays them out.
#include <filesystem>

#include <gtest/gtest.h>

#include "kernel/readback_files.hpp"
#include "kernel/sysfs_tree.hpp"
#include "temp_dir.hpp"

using namespace damond;
using damond::testing::TempDir;

namespace {

void region(const TempDir& dir, int i, const std::string& start, const std::string& end) {
    std::filesystem::create_directories(dir.path() + "/tr/" + std::to_string(i));
    dir.write("tr/" + std::to_string(i) + "/start", start + "\n");
    dir.write("tr/" + std::to_string(i) + "/end", end + "\n");
    dir.write("tr/" + std::to_string(i) + "/nr_accesses", "3\n");
    dir.write("tr/" + std::to_string(i) + "/age", "7\n");
}

}  // namespace

// A region that does not end past its start covers nothing: it is left
// out, and the others are read (a pause that reads them goes on).
TEST(TriedRegions, ARegionThatEndsWhereItStartsIsLeftOut) {
    TempDir dir;
    region(dir, 0, "4096", "8192");
    region(dir, 1, "8192", "8192");
    region(dir, 2, "8192", "16384");
    dir.write("tr/total_bytes", "12288\n");
    FsSysfsTree tree(dir.path());
    const std::vector<SnapshotRegion> regions = read_tried_regions(tree, "tr");
    ASSERT_EQ(regions.size(), 2u);
    EXPECT_EQ(regions[0].start, 4096u);
    EXPECT_EQ(regions[1].start, 8192u);
    EXPECT_EQ(regions[1].end, 16384u);
    EXPECT_EQ(regions[1].age, 7u);
}

// One out of order is no layout the kernel makes: the read fails naming it.
TEST(TriedRegions, ARegionOutOfOrderFailsNamingIt) {
    TempDir dir;
    region(dir, 0, "8192", "16384");
    region(dir, 1, "4096", "8192");
    FsSysfsTree tree(dir.path());
    try {
        read_tried_regions(tree, "tr");
        FAIL() << "accepted";
    } catch (const SysfsError& e) {
        EXPECT_NE(std::string(e.what()).find("tr/1/start"), std::string::npos) << e.what();
    }
}
