// Who may change things. Reading is open to everyone; a method that changes
// anything runs only for a caller whose uid — asked from the bus driver for
// the caller's unique name, never looked up by pid — is 0, or whose user is
// a member of the configured group; for anyone else damond asks polkit,
// when it is reachable on the bus, about the method's action. Otherwise the
// call fails with AccessDenied saying what would be needed.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

#include "manager/config.hpp"

namespace damond {

// The polkit actions in systemd/org.damond1.policy.
enum class BusAction { Pause, SetAppState, Configure };
const char* polkit_action_id(BusAction action);

class CallerAuthorizer {
public:
    CallerAuthorizer(sdbus::IConnection& connection, AuthorizationConfig config);

    void set_config(AuthorizationConfig config) { config_ = std::move(config); }
    // Throws DamondError(AccessDenied) unless the sender of the message being
    // handled may do `action`.
    void check(const sdbus::IObject& object, BusAction action);
    // "uid N" for the sender of the message being handled ("" outside a
    // bus call): who a context or app counts for in the limits.
    std::string caller_of(const sdbus::IObject& object);
    // The name left the bus: its uid is no longer needed.
    void forget(const std::string& unique_name) { uids_.erase(unique_name); }

private:
    enum class PolkitAnswer { Yes, No, Unreachable };
    uid_t uid_of(const std::string& sender);
    bool in_group(uid_t uid) const;
    PolkitAnswer ask_polkit(const std::string& sender, BusAction action, std::string& why);

    AuthorizationConfig config_;
    std::unique_ptr<sdbus::IProxy> bus_driver_;
    std::unique_ptr<sdbus::IProxy> polkit_;
    std::map<std::string, uid_t> uids_;  // unique names are never reused on a bus
};

}  // namespace damond
