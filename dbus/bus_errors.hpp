// The one place where daemon errors become D-Bus errors.
#pragma once

#include <exception>
#include <string>

#include <sdbus-c++/Error.h>

#include "errors.hpp"

namespace damond {

std::string bus_error_name(ErrorKind kind);

// sdbus-c++ 1.2 only turns sdbus::Error into an error reply; any other
// exception unwinds through sd-bus and kills the event loop. Every handler
// runs through this, so a caller always gets an error reply, never a success
// that carries one.
template <typename F>
auto translate_errors(F&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const sdbus::Error&) {
        throw;
    } catch (const DamondError& e) {
        throw sdbus::Error(bus_error_name(e.kind()), e.what());
    } catch (const std::exception& e) {
        throw sdbus::Error(bus_error_name(ErrorKind::Failed), e.what());
    }
}

}  // namespace damond
