// Files that are either wholly the old version or wholly the new one, even
// across a crash or a power cut: a temporary file, fsync, rename, fsync of
// the directory.
#pragma once

#include <string>

namespace damond {

// Throws std::system_error naming the file.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace damond
