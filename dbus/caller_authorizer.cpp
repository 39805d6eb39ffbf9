#include "caller_authorizer.hpp"

#include <grp.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "base/errors.hpp"
#include "base/log.hpp"

namespace damond {

const char* polkit_action_id(BusAction action) {
    switch (action) {
    case BusAction::Pause: return "org.damond1.pause";
    case BusAction::SetAppState: return "org.damond1.set-app-state";
    case BusAction::Configure: return "org.damond1.configure";
    }
    return "org.damond1.configure";
}

std::string polkit_action_id(Grant grant) { return std::string("org.damond1.") + to_string(grant); }

BusCall bus_call_of(const sdbus::IObject& object) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    if (!msg) return {};
    return {msg->getSender(), msg->getMemberName()};
}

// What polkit said about each grant one call needed, kept across the
// call's attempts (a grant is asked once per call).
struct CallerAuthorizer::Grants {
    std::map<Grant, std::pair<bool, std::string>> answers;  // granted, and why not
};

CallerAuthorizer::CallerAuthorizer(sdbus::IConnection& connection, AuthorizationConfig config)
    : bus_driver_(sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")),
      polkit_(sdbus::createProxy(connection, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority")) {
    bus_driver_->finishRegistration();
    polkit_->finishRegistration();
    set_config(std::move(config));
}

void CallerAuthorizer::set_config(AuthorizationConfig config) {
    config_ = std::move(config);
    // The group database is read here, at start and reload, never per call:
    // with LDAP or sssd behind it a lookup can take seconds.
    group_gid_.reset();
    if (config_.group.empty()) return;
    std::vector<char> buf(16384);
    group gr{};
    group* g = nullptr;
    if (getgrnam_r(config_.group.c_str(), &gr, buf.data(), buf.size(), &g) == 0 && g)
        group_gid_ = g->gr_gid;
    else
        log_warning("authorization.group: there is no group '" + config_.group + "', so nobody is let in by it");
}

std::exception_ptr CallerAuthorizer::timed_out(const std::string& who) const {
    return std::make_exception_ptr(DamondError(
        ErrorKind::AuthorizationTimedOut, who + " did not answer within " + std::to_string(config_.polkit_timeout_ms) +
                                              " ms (authorization.polkit_timeout_ms); nothing was done, try again"));
}

void CallerAuthorizer::creds_of(const std::string& sender, std::function<void(std::exception_ptr, const Creds&)> then) {
    if (auto it = creds_.find(sender); it != creds_.end()) return then(nullptr, it->second);
    // The bus driver knows the uid and groups the caller connected with
    // (SO_PEERCRED, SO_PEERGROUPS; dbus-daemon lists the primary group too);
    // a pid could have been reused or exec'd something else since.
    bus_driver_->callMethodAsync("GetConnectionCredentials")
        .onInterface("org.freedesktop.DBus")
        .withTimeout(std::chrono::milliseconds(config_.polkit_timeout_ms))
        .withArguments(sender)
        .uponReplyInvoke([this, sender, then](const sdbus::Error* error, std::map<std::string, sdbus::Variant> found) {
            if (error) {
                if (error->getName() == "org.freedesktop.DBus.Error.NoReply" ||
                    error->getName() == "org.freedesktop.DBus.Error.Timeout")
                    return then(timed_out("the bus driver"), Creds{});
                return then(std::make_exception_ptr(DamondError(
                                ErrorKind::AccessDenied, "the bus does not say which user " + sender +
                                                             " is: " + error->getName() + ": " + error->getMessage())),
                            Creds{});
            }
            auto uid = found.find("UnixUserID");
            if (uid == found.end() || !uid->second.containsValueOfType<uint32_t>())
                return then(std::make_exception_ptr(DamondError(ErrorKind::AccessDenied,
                                                                "the bus does not say which user " + sender + " is")),
                            Creds{});
            Creds c;
            c.uid = static_cast<uid_t>(uid->second.get<uint32_t>());
            if (auto groups = found.find("UnixGroupIDs");
                groups != found.end() && groups->second.containsValueOfType<std::vector<uint32_t>>())
                for (uint32_t g : groups->second.get<std::vector<uint32_t>>())
                    c.groups.push_back(static_cast<gid_t>(g));
            then(nullptr, creds_[sender] = c);
        });
}

bool CallerAuthorizer::in_group(const Creds& c) const {
    return group_gid_ && std::find(c.groups.begin(), c.groups.end(), *group_gid_) != c.groups.end();
}

void CallerAuthorizer::ask_polkit(const std::string& sender, const std::string& action,
                                  std::function<void(PolkitAnswer, std::string)> then) {
    if (!config_.polkit) return then(PolkitAnswer::Unreachable, "");
    const sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>> subject{
        std::string("system-bus-name"), std::map<std::string, sdbus::Variant>{{"name", sdbus::Variant(sender)}}};
    polkit_->callMethodAsync("CheckAuthorization")
        .onInterface("org.freedesktop.PolicyKit1.Authority")
        .withTimeout(std::chrono::milliseconds(config_.polkit_timeout_ms))
        .withArguments(subject, action, std::map<std::string, std::string>{},
                       uint32_t{0} /* no interaction: nobody is there to answer */, std::string())
        .uponReplyInvoke(
            [then](const sdbus::Error* error, sdbus::Struct<bool, bool, std::map<std::string, std::string>> result) {
                if (error) {
                    const std::string& name = error->getName();
                    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
                        name == "org.freedesktop.DBus.Error.NameHasNoOwner")
                        return then(PolkitAnswer::Unreachable, "");
                    if (name == "org.freedesktop.DBus.Error.NoReply" || name == "org.freedesktop.DBus.Error.Timeout")
                        return then(PolkitAnswer::TimedOut, "");
                    return then(PolkitAnswer::No, "polkit failed: " + name + ": " + error->getMessage());
                }
                if (std::get<0>(result)) return then(PolkitAnswer::Yes, "");
                then(PolkitAnswer::No, std::get<1>(result)
                                           ? "polkit would need authentication, and damond asks without interaction"
                                           : "polkit does not authorize it");
            });
}

std::string CallerAuthorizer::unanswered(PolkitAnswer answer, const std::string& why) const {
    if (answer == PolkitAnswer::Unreachable)
        return config_.polkit ? "polkit is not running" : "polkit is off in the config";
    return why;
}

void CallerAuthorizer::authorize(const BusCall& call, std::optional<BusAction> action, Fail fail, Attempt attempt) {
    if (call.sender.empty()) {  // not a bus call, or a peer-to-peer connection: whoever opened it is trusted
        try {
            attempt(Requester::damond(), fail);
        } catch (...) {
            fail(std::current_exception());
        }
        return;
    }
    creds_of(call.sender, [this, call, action, fail, attempt](std::exception_ptr error, const Creds& c) {
        if (error) return fail(error);
        if (!action || c.uid == 0 || in_group(c)) return run(call, c, std::make_shared<Grants>(), fail, attempt);
        const std::string action_id = polkit_action_id(*action);
        ask_polkit(
            call.sender, action_id, [this, call, c, action_id, fail, attempt](PolkitAnswer answer, std::string why) {
                if (answer == PolkitAnswer::Yes) return run(call, c, std::make_shared<Grants>(), fail, attempt);
                if (answer == PolkitAnswer::TimedOut) return fail(timed_out("polkit"));
                const std::string need =
                    action_id + " needs root" +
                    (config_.group.empty() ? "" : " or membership of group '" + config_.group + "'") + " (uid " +
                    std::to_string(c.uid) + ": " + unanswered(answer, why) + ")";
                log_notice("denied " + call.method + " to " + call.sender + ": " + need, {message_id::kAccessDenied});
                fail(std::make_exception_ptr(DamondError(ErrorKind::AccessDenied, need)));
            });
    });
}

void CallerAuthorizer::run(const BusCall& call, const Creds& c, std::shared_ptr<Grants> grants, Fail fail,
                           Attempt attempt) {
    Requester who;
    who.limits_key = "uid " + std::to_string(c.uid);
    who.uid = c.uid;
    who.groups = c.groups;
    who.ask = [grants](Grant grant, std::string& why) {
        auto it = grants->answers.find(grant);
        if (it == grants->answers.end()) throw GrantUnasked(grant);
        why = it->second.second;
        return it->second.first;
    };
    // A grant the rules wanted and polkit has not been asked about: ask,
    // then go again (the rules refused before changing anything).
    Fail retry = [this, call, c, grants, fail, attempt](std::exception_ptr error) {
        Grant grant;
        try {
            std::rethrow_exception(error);
        } catch (const GrantUnasked& e) {
            grant = e.grant();
        } catch (...) {
            return fail(error);
        }
        if (grants->answers.count(grant)) return fail(error);  // asked already: never loop
        const std::string action = polkit_action_id(grant);
        ask_polkit(call.sender, action,
                   [this, call, c, grants, grant, action, fail, attempt](PolkitAnswer answer, std::string why) {
                       if (answer == PolkitAnswer::TimedOut) return fail(timed_out("polkit"));
                       if (answer != PolkitAnswer::Yes) {
                           why = "polkit action " + action + ": " + unanswered(answer, why);
                           log_notice("denied " + action + " to " + call.sender + ": " + why,
                                      {message_id::kAccessDenied});
                       }
                       grants->answers[grant] = {answer == PolkitAnswer::Yes, why};
                       run(call, c, grants, fail, attempt);
                   });
    };
    try {
        attempt(who, retry);
    } catch (...) {
        retry(std::current_exception());
    }
}

}  // namespace damond
