// The files the real access sources read and write (/proc/<pid>/...,
// /sys/kernel/mm/page_idle/bitmap), under a root directory so tests can
// replay recorded fixtures instead of a live kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace damond {

class ProcFs {
public:
    explicit ProcFs(std::string root = "") : root_(std::move(root)) {}

    const std::string& root() const { return root_; }
    std::string path(const std::string& p) const { return root_ + p; }
    bool exists(const std::string& p) const;
    bool writable(const std::string& p) const;
    // nullopt if the file cannot be read.
    std::optional<std::string> read_text(const std::string& p) const;
    // Throw std::system_error naming the file on failure.
    void write_text(const std::string& p, const std::string& text) const;
    uint64_t pread_u64(const std::string& p, uint64_t offset) const;
    void pwrite_u64(const std::string& p, uint64_t offset, uint64_t value) const;

private:
    std::string root_;
};

// Field `field_number` of /proc/<pid>/stat (numbered as proc(5) does), as
// a number; nullopt if there is no such process or field.
std::optional<uint64_t> process_stat_field(uint32_t pid, int field_number);

// Start time of a live process (/proc/<pid>/stat field 22, clock ticks
// since boot): with the pid, it names one process for good. nullopt if there
// is no process with that pid.
std::optional<uint64_t> process_start_time(uint32_t pid);

}  // namespace damond
