// One fuzzer binary per target: DAMOND_FUZZ_TARGET names the function.
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return damond::fuzz::DAMOND_FUZZ_TARGET(data, size);
}
