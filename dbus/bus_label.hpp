// Object path labels escaped the way systemd's bus_label_escape() does:
// every byte outside [A-Za-z0-9], and a leading digit, becomes _xx (lower-case
// hex); the empty string becomes "_".
#pragma once

#include <optional>
#include <string>

namespace damond {

std::string bus_label_escape(const std::string& s);
// nullopt if `label` is not a valid escape.
std::optional<std::string> bus_label_unescape(const std::string& label);

inline constexpr const char* kBusName = "org.damond1";
inline constexpr const char* kManagerPath = "/org/damond1";
inline constexpr const char* kContextPathPrefix = "/org/damond1/context/";

std::string context_object_path(const std::string& name);

inline constexpr const char* kAppPathPrefix = "/org/damond1/app/";
std::string app_object_path(const std::string& app_id);

}  // namespace damond
