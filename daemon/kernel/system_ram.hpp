// Where the machine's memory is, for a paddr context that watches it as
// DAMON_STAT does: the biggest "System RAM" range. /proc/iomem shows its
// addresses only to CAP_SYS_ADMIN, which the unit's bounding set leaves out
// (it reads zeros there); the firmware's map in /sys/firmware/memmap/<N>/
// {start,end,type} is readable by everyone and says the same on x86.
#pragma once

#include <optional>
#include <string>

#include "core/addr_range.hpp"

namespace damond {

// From /proc/iomem's text: the top-level "System RAM" line with the most
// bytes, as a half-open range; nullopt when there is none, or every address
// reads 0 (the reader was not root).
std::optional<AddrRange> biggest_system_ram(const std::string& iomem);

// The same from a /sys/firmware/memmap directory (end is inclusive there).
std::optional<AddrRange> biggest_system_ram_in_memmap(const std::string& dir = "/sys/firmware/memmap");

}  // namespace damond
