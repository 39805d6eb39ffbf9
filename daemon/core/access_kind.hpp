#pragma once

namespace damond {

// What touches a page: reads, writes or both. Real sources differ in which
// they see (soft-dirty and uffd-wp see writes only).
enum class AccessKind { Both, Read, Write };

}  // namespace damond
