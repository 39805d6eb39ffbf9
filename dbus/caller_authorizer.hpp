// Who may change things. Reading is open to everyone but for region data
// (manager/access_rules.hpp); a method that changes anything runs only for a
// caller whose uid — asked from the bus driver for the caller's unique name,
// never looked up by pid — is 0, or whose groups, as the bus driver reports
// them, hold the configured group; for anyone else damond asks polkit, when
// it is reachable on the bus, about the method's action. Otherwise the call
// fails with AccessDenied saying what would be needed. The same polkit
// answers the access rules' grants (monitor-others, monitor-system,
// read-others).
//
// Nothing here waits: the bus driver and polkit are asked asynchronously,
// and the call goes on when they answer, while the loop answers everyone
// else. Each question has a bound (authorization.polkit_timeout_ms); a call
// whose answer does not come in time fails with AuthorizationTimedOut.
#pragma once

#include <sys/types.h>

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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

// A bus call as authorization sees it, taken from the message while its
// handler runs (the object forgets the message once the handler returns).
struct BusCall {
    std::string sender;  // "" outside a bus call or on a peer-to-peer connection: trusted
    std::string method;
};
BusCall bus_call_of(const sdbus::IObject& object);

class CallerAuthorizer {
public:
    using Fail = std::function<void(std::exception_ptr)>;
    // The operation, run once authorized, with the caller as the access
    // rules see it: uid and groups from the bus driver, limits key "uid N",
    // polkit's answers as `ask`. It replies itself on success and hands any
    // error to `fail`.
    using Attempt = std::function<void(const Requester& who, Fail fail)>;

    CallerAuthorizer(sdbus::IConnection& connection, AuthorizationConfig config);

    void set_config(AuthorizationConfig config);
    // Runs `attempt` once the caller may do `action` (nullopt: a method
    // anyone may call, whose access rules judge the requester), or `fail`
    // with AccessDenied or AuthorizationTimedOut. When the attempt fails
    // with GrantUnasked, polkit is asked about that grant and the attempt
    // made again with the answer. Root (damond itself) outside a bus call
    // and on a peer-to-peer connection.
    void authorize(const BusCall& call, std::optional<BusAction> action, Fail fail, Attempt attempt);
    // The name left the bus: its credentials are no longer needed.
    void forget(const std::string& unique_name) { creds_.erase(unique_name); }

private:
    struct Creds {
        uid_t uid = 0;
        std::vector<gid_t> groups;
    };
    enum class PolkitAnswer { Yes, No, Unreachable, TimedOut };
    struct Grants;  // polkit's answers for one call, shared by its attempts

    // `then` gets the sender's credentials, or the error that kept them.
    void creds_of(const std::string& sender, std::function<void(std::exception_ptr, const Creds&)> then);
    bool in_group(const Creds& c) const;
    void ask_polkit(const std::string& sender, const std::string& action,
                    std::function<void(PolkitAnswer, std::string why)> then);
    std::string unanswered(PolkitAnswer answer, const std::string& why) const;
    void run(const BusCall& call, const Creds& c, std::shared_ptr<Grants> grants, Fail fail, Attempt attempt);
    std::exception_ptr timed_out(const std::string& who) const;

    AuthorizationConfig config_;
    std::optional<gid_t> group_gid_;  // config_.group, looked up once per config
    std::unique_ptr<sdbus::IProxy> bus_driver_;
    std::unique_ptr<sdbus::IProxy> polkit_;
    std::map<std::string, Creds> creds_;  // unique names are never reused on a bus
};

}  // namespace damond
