// The one place where daemon errors become D-Bus errors.
#pragma once

#include <exception>
#include <string>

#include <functional>
#include <memory>

#include <sdbus-c++/Error.h>
#include <sdbus-c++/MethodResult.h>

#include <vector>

#include <sdbus-c++/IObject.h>
#include <sdbus-c++/Message.h>
#include <sdbus-c++/Types.h>

#include "errors.hpp"
#include "manager/pause_holds.hpp"

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

// The unique name of the caller whose message is being handled, "" if none.
std::string current_sender(const sdbus::IObject& object);

// Pause holds as the a(usss) the interfaces publish.
std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string>> holds_to_bus(
    const std::vector<PauseHold>& holds);

// An sdbus::Error for whatever `error` holds.
sdbus::Error to_bus_error(std::exception_ptr error);

// Completes an asynchronous method call: the returned callback replies with
// success or with the error, once. Starting the work may itself throw; that
// is turned into the reply as well.
template <typename Start>
void reply_when_done(sdbus::Result<>&& result, Start start) {
    auto shared = std::make_shared<sdbus::Result<>>(std::move(result));
    try {
        start([shared](std::exception_ptr error) {
            if (!error) shared->returnResults();
            else shared->returnError(to_bus_error(error));
        });
    } catch (...) {
        shared->returnError(to_bus_error(std::current_exception()));
    }
}

// The same for a method with one result: `start` gets a callback taking the
// error or the value.
template <typename T, typename Start>
void reply_when_ready(sdbus::Result<T>&& result, Start start) {
    auto shared = std::make_shared<sdbus::Result<T>>(std::move(result));
    try {
        start([shared](std::exception_ptr error, T value) {
            if (!error) shared->returnResults(value);
            else shared->returnError(to_bus_error(error));
        });
    } catch (...) {
        shared->returnError(to_bus_error(std::current_exception()));
    }
}

}  // namespace damond
