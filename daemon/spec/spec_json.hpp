// JSON in and out for ContextSpec, with validation.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "spec/context_spec.hpp"
#include "spec/spec_error.hpp"

namespace damond {

// Parse and validate. Missing fields take the kernel's defaults; unknown keys,
// wrong types and broken rules throw SpecError naming the JSON path.
ContextSpec spec_from_json(const nlohmann::json& j);
ContextSpec spec_from_json_text(const std::string& text);

// Canonical form: every field, so it round-trips through spec_from_json.
nlohmann::json spec_to_json(const ContextSpec& spec);

// An online commit: `patch_text` is a JSON merge patch (RFC 7386) applied to
// `current`; the result is validated as a whole.
ContextSpec spec_apply_patch(const ContextSpec& current, const std::string& patch_text);

}  // namespace damond
