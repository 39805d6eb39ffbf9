// What every damonctl command shares: its arguments, its exit codes, and
// the one way a command fails.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace damonctl {

// Exit codes (damonctl(1), EXIT STATUS): scripts tell these apart.
enum Exit : int {
    kOk = 0,
    kFailed = 1,        // damond failed it (org.damond1.Error.Failed), or anything else
    kUsage = 2,         // the command line is wrong
    kNotFound = 3,      // no such context, app or hold
    kInvalid = 4,       // a spec, config, file or argument breaks a rule
    kBusy = 5,          // another operation is under way, the name is taken, or polkit was slow
    kNotSupported = 6,  // the backend cannot do it
    kLimit = 7,         // a configured limit is reached
    kDenied = 8,        // the caller may not do it
    kUnreachable = 9,   // damond is not on the bus (or the bus is not there)
};

class Failure : public std::runtime_error {
public:
    Failure(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    int code() const { return code_; }

private:
    int code_;
};

// A file's text, or standard input's for "-"; Failure(kInvalid) naming
// the file when it cannot be read.
std::string read_input(const std::string& file);
// CLOCK_MONOTONIC in microseconds, damond's clock for StateSinceUsec.
uint64_t monotonic_us();

// The words after the command name, with the options every command knows
// taken out.
struct Args {
    std::vector<std::string> words;
    bool json = false;

    // Removes `--name VALUE` (or `--name=VALUE`) and returns VALUE, or
    // `fallback` if absent.
    std::string option(const std::string& name, const std::string& fallback = "");
    // Removes `--name` and returns whether it was there.
    bool flag(const std::string& name);
    // Fails with kUsage unless exactly `n` words remain (or at least `n` when
    // `at_least`), naming `usage`.
    void expect(size_t n, const std::string& usage, bool at_least = false) const;
};

}  // namespace damonctl
