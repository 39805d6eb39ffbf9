#include "spec/json_object_reader.hpp"

#include <cmath>

namespace damond {

namespace {

const char* type_name(const nlohmann::json& v) {
    switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_float: return "a fractional number";
    default: return "a number";
    }
}

// nlohmann parses integers beyond the 64-bit range as doubles; report those as
// overflow rather than as "not an integer".
[[noreturn]] void reject_float(const nlohmann::json& v, const std::string& path, const std::string& range) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d) throw SpecError(path, "out of range: must be " + range);
    throw SpecError(path, "must be an integer, got " + v.dump());
}

}  // namespace

std::string json_index_path(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

uint64_t json_to_u64(const nlohmann::json& v, const std::string& path, uint64_t max) {
    const std::string range = "between 0 and " + std::to_string(max);
    if (v.is_number_float()) reject_float(v, path, range);
    if (!v.is_number()) throw SpecError(path, std::string("must be an unsigned integer, got ") + type_name(v));
    if (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0)
        throw SpecError(path, "must not be negative, got " + v.dump());
    const uint64_t value = v.get<uint64_t>();
    if (value > max) throw SpecError(path, "out of range: must be " + range + ", got " + v.dump());
    return value;
}

int64_t json_to_i64(const nlohmann::json& v, const std::string& path, int64_t min, int64_t max) {
    const std::string range = "between " + std::to_string(min) + " and " + std::to_string(max);
    if (v.is_number_float()) reject_float(v, path, range);
    if (!v.is_number()) throw SpecError(path, std::string("must be an integer, got ") + type_name(v));
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        throw SpecError(path, "out of range: must be " + range + ", got " + v.dump());
    const int64_t value = v.get<int64_t>();
    if (value < min || value > max) throw SpecError(path, "out of range: must be " + range + ", got " + v.dump());
    return value;
}

JsonObjectReader::JsonObjectReader(const nlohmann::json& j, std::string path) : json_(j), path_(std::move(path)) {
    if (!j.is_object()) throw SpecError(path_, std::string("must be an object, got ") + type_name(j));
}

bool JsonObjectReader::has(const std::string& key) const { return json_.contains(key); }

std::string JsonObjectReader::path_of(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

const nlohmann::json* JsonObjectReader::member(const std::string& key) {
    known_.insert(key);
    auto it = json_.find(key);
    return it == json_.end() ? nullptr : &*it;
}

const nlohmann::json* JsonObjectReader::array(const std::string& key) {
    const nlohmann::json* v = member(key);
    if (v && !v->is_array()) throw SpecError(path_of(key), std::string("must be an array, got ") + type_name(*v));
    return v;
}

uint64_t JsonObjectReader::u64(const std::string& key, uint64_t fallback, uint64_t max) {
    const nlohmann::json* v = member(key);
    return v ? json_to_u64(*v, path_of(key), max) : fallback;
}

int64_t JsonObjectReader::i64(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
    const nlohmann::json* v = member(key);
    return v ? json_to_i64(*v, path_of(key), min, max) : fallback;
}

bool JsonObjectReader::boolean(const std::string& key, bool fallback) {
    const nlohmann::json* v = member(key);
    if (!v) return fallback;
    if (!v->is_boolean()) throw SpecError(path_of(key), std::string("must be a boolean, got ") + type_name(*v));
    return v->get<bool>();
}

std::string JsonObjectReader::string(const std::string& key, const std::string& fallback) {
    const nlohmann::json* v = member(key);
    if (!v) return fallback;
    if (!v->is_string()) throw SpecError(path_of(key), std::string("must be a string, got ") + type_name(*v));
    return v->get<std::string>();
}

void JsonObjectReader::reject_unknown_keys() const {
    for (const auto& item : json_.items())
        if (!known_.count(item.key())) throw SpecError(path_of(item.key()), "unknown key");
}

}  // namespace damond
