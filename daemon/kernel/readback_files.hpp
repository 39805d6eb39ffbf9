// What damond reads back from the kernel's DAMON files: numbers, a scheme's
// tried regions and its stats. The kernel writes one decimal number per
// file; anything else (a truncated read, a file of another layout) is an
// error naming the file, never a zero taken for a value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel/sysfs_tree.hpp"
#include "monitor/monitor.hpp"

namespace damond {

// "123" or "123\n"; nullopt for anything else, a value past 2^64 included.
std::optional<uint64_t> parse_sysfs_u64(const std::string& text);

// The file's number; a file that cannot be read (EBUSY, gone) gives
// `fallback` as read_or does, a file that reads but is no number throws
// SysfsError(EINVAL) naming it.
uint64_t read_sysfs_u64(const SysfsTree& tree, const std::string& path, uint64_t fallback = 0);

// <dir>/0 .. <dir>/N-1 (the directories beside total_bytes), in address
// order. A region whose end is not past its start is left out (the journal
// says so); throws SysfsError(EINVAL) naming the file for one out of order
// or a count past 32 bits.
// With `nr_probes`, each region's <R>/probes/<P>/hits too (Linux 7.2+).
std::vector<SnapshotRegion> read_tried_regions(const SysfsTree& tree, const std::string& dir, size_t nr_probes = 0);

// <scheme>/stats/{nr_tried,sz_tried,nr_applied,sz_applied,qt_exceeds}.
SchemeSnapshot read_scheme_stats(const SysfsTree& tree, const std::string& scheme_dir);

}  // namespace damond
