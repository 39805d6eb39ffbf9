// Failures the daemon reports to its callers. Each kind maps to one D-Bus
// error name in dbus/bus_errors.cpp; the message says what went wrong and,
// for specs, names the field.
#pragma once

#include <exception>
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
    LimitExceeded,  // a configured limit (the message names it and its key)
    AccessDenied,
    AuthorizationTimedOut,  // polkit or the bus driver did not answer in time
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

// What a failure handed on as an exception_ptr says ("" for none): for the
// asynchronous calls whose ends log or collect their errors.
inline std::string error_text(std::exception_ptr error) {
    if (!error) return "";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

}  // namespace damond
