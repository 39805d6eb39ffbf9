// damo's value formats (its _damo_fmt_str.py, read for the facts): numbers
// with thousands separators, binary size units, time units, "N %", "min"
// and "max"; and the exact forms damonctl writes back.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace damonctl::damo {

// A value that breaks a rule: the message names the JSON path.
struct ValueError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Each parser takes a JSON string or number and the path for errors, and
// floors to an integer as damo does when it writes sysfs; "max" is the
// largest value (u64), "min" zero.
uint64_t parse_count(const nlohmann::json& v, const std::string& path);
uint64_t parse_bytes(const nlohmann::json& v, const std::string& path);
// A time in the field's own unit (unit_ns: 1000 for µs fields, 1000000 for
// ms), a bare number taken as `bare_ns` nanoseconds per unit of it (the
// field's unit for damo's own reader, 1 for the ns damo's --raw output
// writes in its "exact" fields).
uint64_t parse_time(const nlohmann::json& v, const std::string& path, uint64_t unit_ns, uint64_t bare_ns);
// "N %" scaled to the field's unit (permil: 1000, bp: 10000); a bare
// number is already in that unit.
uint64_t parse_ratio(const nlohmann::json& v, const std::string& path, uint64_t per_one);
// A number with its unit word ("12 samples", "3 aggr_intervals"), or a
// percentage: returns true and fills `n`/`unit` ("%" for percentages).
bool parse_with_unit(const nlohmann::json& v, double& n, std::string& unit);
bool parse_bool(const nlohmann::json& v, const std::string& path);

// Exact forms, for export: "1,000"; "5 ms", "1 m 30 s"; "4.5 %".
std::string format_count(uint64_t n);
std::string format_time_us(uint64_t us);
std::string format_ratio(uint64_t value, uint64_t per_one);
// n × 10^zeros as a decimal string (raw output's nanoseconds may pass 2^64).
std::string decimal_times_pow10(uint64_t n, unsigned zeros);

}  // namespace damonctl::damo
