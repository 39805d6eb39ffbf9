// Logging to stderr with syslog priority prefixes, which journald reads
// when damond runs under systemd.
#pragma once

#include <iostream>
#include <string>

namespace damond {

inline void log_error(const std::string& msg) { std::cerr << "<3>damond: " << msg << std::endl; }
inline void log_warning(const std::string& msg) { std::cerr << "<4>damond: " << msg << std::endl; }
inline void log_info(const std::string& msg) { std::cerr << "<6>damond: " << msg << std::endl; }

}  // namespace damond
