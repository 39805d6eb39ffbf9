// damond's fuzz targets, one per kind of input it takes from outside: a
// context spec, a commit's merge patch, the config file, saved state and
// checkpoints, the files read back from the kernel, and a spec run on the
// in-process core, and damo's kdamonds JSON as damonctl imports it. Each takes raw bytes; a broken invariant throws
// FuzzFailure (libFuzzer reports it as a crash, the corpus test as a
// failure). Shared by the fuzzers (fuzz_main.cpp) and the corpus replay
// in the test suite (test_fuzz_corpus.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace damond::fuzz {

class FuzzFailure : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

int spec(const uint8_t* data, size_t size);
int commit(const uint8_t* data, size_t size);
int config(const uint8_t* data, size_t size);
int saved_state(const uint8_t* data, size_t size);
int checkpoint(const uint8_t* data, size_t size);
int readback(const uint8_t* data, size_t size);
int core(const uint8_t* data, size_t size);
int damo(const uint8_t* data, size_t size);

struct Target {
    const char* name;
    int (*run)(const uint8_t*, size_t);
};
inline constexpr Target kTargets[] = {
    {"spec", spec},
    {"commit", commit},
    {"config", config},
    {"saved_state", saved_state},
    {"checkpoint", checkpoint},
    {"readback", readback},
    {"core", core},
    {"damo", damo},
};

}  // namespace damond::fuzz
