// A bus method that needs the caller authorized first: the authorization
// is asked without waiting (caller_authorizer.hpp), then `op` runs with the
// caller as the access rules see it. An error of `op` goes back through the
// authorizer (a grant polkit must be asked about first), anything else to
// `reply`. `op` runs after the handler has returned: it must not use the
// bus object (which may be gone), only what it captured.
#pragma once

#include <exception>
#include <functional>
#include <optional>

#include "caller_authorizer.hpp"

namespace damond {

using AuthorizedOp = std::function<void(const Requester& who, std::function<void(std::exception_ptr)> done)>;

inline void authorized(CallerAuthorizer& auth, const sdbus::IObject& object, std::optional<BusAction> action,
                       std::function<void(std::exception_ptr)> reply, AuthorizedOp op) {
    auth.authorize(bus_call_of(object), action, reply, [reply, op](const Requester& who, CallerAuthorizer::Fail fail) {
        op(who, [reply, fail](std::exception_ptr e) {
            if (e)
                fail(e);
            else
                reply(nullptr);
        });
    });
}

// The same for a method with one result.
template <typename T>
void authorized(CallerAuthorizer& auth, const sdbus::IObject& object, std::optional<BusAction> action,
                std::function<void(std::exception_ptr, T)> reply,
                std::function<void(const Requester& who, std::function<void(std::exception_ptr, T)> done)> op) {
    auth.authorize(
        bus_call_of(object), action, [reply](std::exception_ptr e) { reply(e, T{}); },
        [reply, op](const Requester& who, CallerAuthorizer::Fail fail) {
            op(who, [reply, fail](std::exception_ptr e, T value) {
                if (e)
                    fail(e);
                else
                    reply(nullptr, std::move(value));
            });
        });
}

}  // namespace damond
