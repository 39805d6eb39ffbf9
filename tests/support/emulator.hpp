// damon-sysfs-emu ($DAMON_SYSFS_EMU) mounted for real on a directory of its
// own: the DAMON sysfs tree with the kernel's semantics, for tests that
// drive the kernel backend. Ended and unmounted at destruction.
#pragma once

#include <string>

namespace damond::testing {

class Emulator {
public:
    explicit Emulator(const std::string& profile);
    ~Emulator() { stop(); }
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;
    // Ends the emulator: writes and reads stuck in it return ENOTCONN.
    void stop();
    // False when the tree did not appear (no /dev/fuse, no emulator).
    bool up() const;
    const std::string& dir() const { return dir_; }
    std::string release() const { return profile_ + ".0"; }
    std::string log() const;
    // Writes `value` to a file of the tree (controls under _emu/ too).
    void put(const std::string& path, const std::string& value) const;

private:
    std::string profile_, dir_;
    pid_t pid_ = -1;
};

}  // namespace damond::testing
