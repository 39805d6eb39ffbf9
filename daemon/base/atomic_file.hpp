// Files that are either wholly the old version or wholly the new one, even
// across a crash or a power cut: a temporary file, fsync, rename, fsync of
// the directory.
#pragma once

#include <string>

namespace damond {

// Throws std::system_error naming the file. The file is root's alone (0600).
void write_file_atomically(const std::string& path, const std::string& text);

// Creates `path` (and its parents) unless it is there, and makes it 0700
// either way: damond's state holds contexts' regions, which are their
// owners' (docs/service.md, "Privacy"). Throws std::system_error naming it.
void make_private_directory(const std::string& path);

}  // namespace damond
