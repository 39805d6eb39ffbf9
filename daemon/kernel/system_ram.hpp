// Where the machine's memory is, for a paddr context that watches it as
// DAMON_STAT does: the biggest "System RAM" range of /proc/iomem (root sees
// the addresses; everyone else reads zeros).
#pragma once

#include <optional>
#include <string>

#include "core/addr_range.hpp"

namespace damond {

// From /proc/iomem's text: the top-level "System RAM" line with the most
// bytes, as a half-open range; nullopt when there is none, or every address
// reads 0 (the reader was not root).
std::optional<AddrRange> biggest_system_ram(const std::string& iomem);

}  // namespace damond
