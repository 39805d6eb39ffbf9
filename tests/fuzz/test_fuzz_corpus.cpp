// Every input in tests/fuzz/corpus/<target>/ through its fuzz target: the
// seeds, and each input a fuzzer found to crash, kept as a regression test.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <gtest/gtest.h>

#include "fuzz_targets.hpp"

namespace {

namespace fs = std::filesystem;

class FuzzCorpus : public ::testing::TestWithParam<damond::fuzz::Target> {};

TEST_P(FuzzCorpus, EveryInputPasses) {
    const fs::path dir = fs::path(DAMOND_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / GetParam().name;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    size_t inputs = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        SCOPED_TRACE(entry.path().string());
        EXPECT_NO_THROW(GetParam().run(data.data(), data.size()));
        ++inputs;
    }
    EXPECT_GT(inputs, 0u) << "no seeds in " << dir;
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus, ::testing::ValuesIn(damond::fuzz::kTargets),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
