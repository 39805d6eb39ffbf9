// How big a spec damond takes: limits set in the config ("limits"), beyond
// which a call fails with LimitExceeded naming the limit and its key. The
// rules in spec_json.cpp say what is valid; these say how much is allowed.
#pragma once

#include <cstdint>
#include <string>

#include "spec/context_spec.hpp"
#include "spec/spec_error.hpp"

namespace damond {

struct SpecLimits {
    // nr_regions.max, and the ranges of all targets together: each region
    // costs a sample per interval and ~100 bytes.
    uint64_t regions_per_context = 10000;
    uint64_t spec_bytes = 65536;  // the JSON of a spec or a commit
};

// A spec within the rules but over a limit. `key` is the config key.
class LimitError : public SpecError {
public:
    LimitError(std::string path, std::string rule, std::string key)
        : SpecError(std::move(path), std::move(rule)), key_(std::move(key)) {}
    const std::string& key() const { return key_; }

private:
    std::string key_;
};

// Throw LimitError: the JSON of a spec or commit before it is parsed, and
// the spec it gave.
void check_spec_bytes(size_t text_bytes, const SpecLimits& limits);
void check_spec_limits(const ContextSpec& spec, const SpecLimits& limits);

}  // namespace damond
