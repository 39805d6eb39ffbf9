// Which files the DAMON sysfs tree has, by kernel version (the kernel's
// Documentation/admin-guide/mm/damon/usage.rst and mm/damon/sysfs*.c of each
// release). The backend writes only files the probe found; the emulator and
// test fixtures build trees of a given version from the same table.
#pragma once

#include <string>
#include <vector>

#include "kernel/kernel_version.hpp"

namespace damond {

// Probe: monitoring_attrs/probes/<P>; ProbeFilter: <P>/filters/<F> (7.2+).
enum class SysfsLevel { Kdamond, Context, Target, Region, Scheme, Goal, Filter, Dest, Probe, ProbeFilter };

struct SysfsFile {
    SysfsLevel level;
    const char* path;  // relative to the level's directory
    int since_major;
    int since_minor;
    const char* initial;  // the value a new file reads
    bool writable;
};

// Every regular file of the tree at any version.
const std::vector<SysfsFile>& sysfs_files();

// The files of `level` that exist on `version`.
std::vector<SysfsFile> sysfs_files_of(SysfsLevel level, const KernelVersion& version);

}  // namespace damond
