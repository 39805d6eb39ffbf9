#include "caller_authorizer.hpp"

#include <grp.h>
#include <pwd.h>

#include <chrono>
#include <vector>

#include "errors.hpp"
#include "log.hpp"

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

CallerAuthorizer::CallerAuthorizer(sdbus::IConnection& connection, AuthorizationConfig config)
    : config_(std::move(config)),
      bus_driver_(sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")),
      polkit_(sdbus::createProxy(connection, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority")) {
    bus_driver_->finishRegistration();
    polkit_->finishRegistration();
}

const CallerAuthorizer::Creds& CallerAuthorizer::creds_of(const std::string& sender) {
    auto it = creds_.find(sender);
    if (it != creds_.end()) return it->second;
    // The bus driver knows the uid and groups the caller connected with
    // (SO_PEERCRED, SO_PEERGROUPS; dbus-daemon lists the primary group too);
    // a pid could have been reused or exec'd something else since.
    std::map<std::string, sdbus::Variant> found;
    bus_driver_->callMethod("GetConnectionCredentials")
        .onInterface("org.freedesktop.DBus")
        .withArguments(sender)
        .storeResultsTo(found);
    auto uid = found.find("UnixUserID");
    if (uid == found.end() || !uid->second.containsValueOfType<uint32_t>())
        throw DamondError(ErrorKind::AccessDenied, "the bus does not say which user " + sender + " is");
    Creds c;
    c.uid = static_cast<uid_t>(uid->second.get<uint32_t>());
    if (auto groups = found.find("UnixGroupIDs");
        groups != found.end() && groups->second.containsValueOfType<std::vector<uint32_t>>())
        for (uint32_t g : groups->second.get<std::vector<uint32_t>>()) c.groups.push_back(static_cast<gid_t>(g));
    return creds_[sender] = c;
}

bool CallerAuthorizer::in_group(uid_t uid) const {
    if (config_.group.empty()) return false;
    std::vector<char> buf(16384);
    group gr{};
    group* g = nullptr;
    if (getgrnam_r(config_.group.c_str(), &gr, buf.data(), buf.size(), &g) != 0 || !g) return false;
    const gid_t wanted = g->gr_gid;
    passwd pw{};
    passwd* p = nullptr;
    std::vector<char> pbuf(16384);
    if (getpwuid_r(uid, &pw, pbuf.data(), pbuf.size(), &p) != 0 || !p) return false;
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (getgrouplist(p->pw_name, p->pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<size_t>(n));
        if (getgrouplist(p->pw_name, p->pw_gid, groups.data(), &n) < 0) return false;
    }
    for (int i = 0; i < n; ++i)
        if (groups[static_cast<size_t>(i)] == wanted) return true;
    return false;
}

CallerAuthorizer::PolkitAnswer CallerAuthorizer::ask_polkit(const std::string& sender, const std::string& action,
                                                            std::string& why) {
    if (!config_.polkit) return PolkitAnswer::Unreachable;
    const sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>> subject{
        std::string("system-bus-name"), std::map<std::string, sdbus::Variant>{{"name", sdbus::Variant(sender)}}};
    sdbus::Struct<bool, bool, std::map<std::string, std::string>> result;
    try {
        polkit_->callMethod("CheckAuthorization")
            .onInterface("org.freedesktop.PolicyKit1.Authority")
            .withTimeout(std::chrono::seconds(5))
            .withArguments(subject, action, std::map<std::string, std::string>{},
                           uint32_t{0} /* no interaction: nobody is there to answer */, std::string())
            .storeResultsTo(result);
    } catch (const sdbus::Error& e) {
        if (e.getName() == "org.freedesktop.DBus.Error.ServiceUnknown" ||
            e.getName() == "org.freedesktop.DBus.Error.NameHasNoOwner")
            return PolkitAnswer::Unreachable;
        why = "polkit failed: " + e.getName() + ": " + e.getMessage();
        return PolkitAnswer::No;
    }
    if (std::get<0>(result)) return PolkitAnswer::Yes;
    why = std::get<1>(result) ? "polkit would need authentication, and damond asks without interaction"
                              : "polkit does not authorize it";
    return PolkitAnswer::No;
}

Requester CallerAuthorizer::requester_of(const sdbus::IObject& object) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    if (!msg || msg->getSender().empty()) return Requester::damond();
    const std::string sender = msg->getSender();
    const Creds& c = creds_of(sender);
    Requester r;
    r.limits_key = "uid " + std::to_string(c.uid);
    r.uid = c.uid;
    r.groups = c.groups;
    r.ask = [this, sender](Grant grant, std::string& why) {
        const std::string action = polkit_action_id(grant);
        switch (ask_polkit(sender, action, why)) {
        case PolkitAnswer::Yes: return true;
        case PolkitAnswer::No: break;
        case PolkitAnswer::Unreachable: why = config_.polkit ? "polkit is not running" : "polkit is off in the config"; break;
        }
        why = "polkit action " + action + ": " + why;
        log_notice("denied " + action + " to " + sender + ": " + why, {message_id::kAccessDenied});
        return false;
    };
    return r;
}

void CallerAuthorizer::check(const sdbus::IObject& object, BusAction action) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    if (!msg) return;  // not a bus call
    const std::string sender = msg->getSender();
    if (sender.empty()) return;  // a peer-to-peer connection: whoever opened it is trusted
    const uid_t uid = creds_of(sender).uid;
    if (uid == 0 || in_group(uid)) return;
    std::string why;
    switch (ask_polkit(sender, polkit_action_id(action), why)) {
    case PolkitAnswer::Yes: return;
    case PolkitAnswer::No: break;
    case PolkitAnswer::Unreachable: why = config_.polkit ? "polkit is not running" : "polkit is off in the config"; break;
    }
    const std::string need = std::string(polkit_action_id(action)) + " needs root" +
                             (config_.group.empty() ? "" : " or membership of group '" + config_.group + "'") +
                             " (uid " + std::to_string(uid) + ": " + why + ")";
    log_notice("denied " + msg->getMemberName() + " to " + sender + ": " + need, {message_id::kAccessDenied});
    throw DamondError(ErrorKind::AccessDenied, need);
}

}  // namespace damond
