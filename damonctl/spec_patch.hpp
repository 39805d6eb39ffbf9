// `commit CTX key.path=value ...`: assignments on the current spec, turned
// into the JSON merge patch damond takes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace damonctl {

// Applies "a.b.0.c=value" assignments to `spec` (a number in the path
// indexes an array; a value that parses as JSON is taken as JSON, anything
// else as a string). Throws Failure(kInvalid) naming the assignment.
nlohmann::json assign(nlohmann::json spec, const std::vector<std::string>& assignments);
// The RFC 7386 merge patch that turns `from` into `to` (arrays whole).
nlohmann::json merge_patch(const nlohmann::json& from, const nlohmann::json& to);
// True if the word looks like an assignment rather than a file.
bool is_assignment(const std::string& word);

}  // namespace damonctl
