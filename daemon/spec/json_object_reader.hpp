// Reads the fields of one JSON object with type and range checks, tracking
// the JSON path so every error names the field it is about.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "spec/spec_error.hpp"

namespace damond {

class JsonObjectReader {
public:
    // Throws SpecError unless `j` is an object.
    JsonObjectReader(const nlohmann::json& j, std::string path);

    bool has(const std::string& key) const;
    std::string path_of(const std::string& key) const;

    uint64_t u64(const std::string& key, uint64_t fallback, uint64_t max = UINT64_MAX);
    int64_t i64(const std::string& key, int64_t fallback, int64_t min, int64_t max);
    bool boolean(const std::string& key, bool fallback);
    std::string string(const std::string& key, const std::string& fallback);
    // The raw member, or nullptr when absent; marks the key as known.
    const nlohmann::json* member(const std::string& key);
    // A member that must be an array, or nullptr when absent.
    const nlohmann::json* array(const std::string& key);

    // Throws SpecError for the first key that no accessor asked for.
    void reject_unknown_keys() const;

private:
    const nlohmann::json& json_;
    std::string path_;
    std::set<std::string> known_;
};

// Range-checked conversions of a single JSON value; `path` names it in errors.
uint64_t json_to_u64(const nlohmann::json& v, const std::string& path, uint64_t max);
int64_t json_to_i64(const nlohmann::json& v, const std::string& path, int64_t min, int64_t max);

std::string json_index_path(const std::string& path, size_t index);

}  // namespace damond
