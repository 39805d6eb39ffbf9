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

#include "base/bus_call_counts.hpp"
#include "base/errors.hpp"
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

// Counts one answered call of the method being handled on `object`: call
// it before the handler may return (the method name is the message's).
// Returns the function that counts the answer ("ok" or the error's last name
// part, as bus_result_word says).
std::function<void(const char* result)> count_call(const sdbus::IObject& object, BusCallCounts& counts);
// "ok" for no error, else the D-Bus error name's last part.
std::string bus_result_word(const sdbus::Error* error);

// Completes an asynchronous method call: the returned callback replies with
// success or with the error, once, and counts the answer. Starting the work
// may itself throw; that is turned into the reply as well.
template <typename Start>
void reply_when_done(const sdbus::IObject& object, BusCallCounts& counts, sdbus::Result<>&& result, Start start) {
    auto shared = std::make_shared<sdbus::Result<>>(std::move(result));
    auto counted = count_call(object, counts);
    auto reply = [shared, counted](std::exception_ptr error) {
        if (!error) {
            counted("ok");
            return shared->returnResults();
        }
        const sdbus::Error e = to_bus_error(error);
        counted(bus_result_word(&e).c_str());
        shared->returnError(e);
    };
    try {
        start(reply);
    } catch (...) {
        reply(std::current_exception());
    }
}

// The same for a method with one result: `start` gets a callback taking the
// error or the value.
template <typename T, typename Start>
void reply_when_ready(const sdbus::IObject& object, BusCallCounts& counts, sdbus::Result<T>&& result, Start start) {
    auto shared = std::make_shared<sdbus::Result<T>>(std::move(result));
    auto counted = count_call(object, counts);
    auto fail = [shared, counted](std::exception_ptr error) {
        const sdbus::Error e = to_bus_error(error);
        counted(bus_result_word(&e).c_str());
        shared->returnError(e);
    };
    try {
        start([shared, counted, fail](std::exception_ptr error, T value) {
            if (error) return fail(error);
            counted("ok");
            shared->returnResults(value);
        });
    } catch (...) {
        fail(std::current_exception());
    }
}

// A synchronous method: runs `fn` through translate_errors and counts the
// answer.
template <typename F>
auto counted_call(const sdbus::IObject& object, BusCallCounts& counts, F&& fn) -> decltype(fn()) {
    auto counted = count_call(object, counts);
    try {
        auto value = translate_errors(std::forward<F>(fn));
        counted("ok");
        return value;
    } catch (const sdbus::Error& e) {
        counted(bus_result_word(&e).c_str());
        throw;
    }
}

}  // namespace damond
