// Failures the daemon reports to its callers. Each kind maps to one D-Bus
// error name in dbus/bus_errors.cpp; the message says what went wrong and,
// for specs, names the field.
#pragma once

#include <stdexcept>
#include <string>

namespace damond {

enum class ErrorKind {
    NoSuchContext,
    NoSuchApp,
    NoSuchHold,
    InvalidSpec,
    InvalidConfig,
    InvalidArgument,
    Busy,
    AccessDenied,
    NotSupported,
    Failed,
};

class DamondError : public std::runtime_error {
public:
    DamondError(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace damond
