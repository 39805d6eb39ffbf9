// Who may change things. Reading is open to everyone but for region data
// (manager/access_rules.hpp); a method that changes anything runs only for a
// caller whose uid — asked from the bus driver for the caller's unique name,
// never looked up by pid — is 0, or whose user is a member of the configured
// group; for anyone else damond asks polkit, when it is reachable on the
// bus, about the method's action. Otherwise the call fails with
// AccessDenied saying what would be needed. The same polkit answers the
// access rules' grants (monitor-others, monitor-system, read-others).
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "manager/access_rules.hpp"
#include "manager/config.hpp"

namespace damond {

// The polkit actions in systemd/org.damond1.policy.
enum class BusAction { Pause, SetAppState, Configure };
const char* polkit_action_id(BusAction action);
// The polkit action of each grant of the access rules: org.damond1.<grant>.
std::string polkit_action_id(Grant grant);

class CallerAuthorizer {
public:
    CallerAuthorizer(sdbus::IConnection& connection, AuthorizationConfig config);

    void set_config(AuthorizationConfig config) { config_ = std::move(config); }
    // Throws DamondError(AccessDenied) unless the sender of the message being
    // handled may do `action`.
    void check(const sdbus::IObject& object, BusAction action);
    // The sender of the message being handled as the access rules see it:
    // uid and groups from the bus driver (GetConnectionCredentials), limits
    // key "uid N", and polkit to ask for grants. Root (damond itself)
    // outside a bus call and on a peer-to-peer connection.
    Requester requester_of(const sdbus::IObject& object);
    // The name left the bus: its credentials are no longer needed.
    void forget(const std::string& unique_name) { creds_.erase(unique_name); }

private:
    enum class PolkitAnswer { Yes, No, Unreachable };
    struct Creds {
        uid_t uid = 0;
        std::vector<gid_t> groups;
    };
    const Creds& creds_of(const std::string& sender);
    bool in_group(uid_t uid) const;
    PolkitAnswer ask_polkit(const std::string& sender, const std::string& action, std::string& why);

    AuthorizationConfig config_;
    std::unique_ptr<sdbus::IProxy> bus_driver_;
    std::unique_ptr<sdbus::IProxy> polkit_;
    std::map<std::string, Creds> creds_;  // unique names are never reused on a bus
};

}  // namespace damond
