#include "bus.hpp"

#include "bus_label.hpp"
#include "cli.hpp"

namespace damonctl {

ManagerProxy::ManagerProxy(sdbus::IConnection& c, bool signals)
    : ProxyInterfaces(c, damond::kBusName, damond::kManagerPath) {
    if (signals) registerProxy();
}

void ManagerProxy::onAppStateChanged(const std::string& app_id, const std::string& old, const std::string& now) {
    if (on_app_state) on_app_state(app_id, old, now);
}
void ManagerProxy::onContextAdded(const std::string& name, const sdbus::ObjectPath&) {
    if (on_context) on_context(name, true);
}
void ManagerProxy::onContextRemoved(const std::string& name, const sdbus::ObjectPath&) {
    if (on_context) on_context(name, false);
}
void ManagerProxy::onPropertiesChanged(const std::string& iface, const Properties& changed,
                                       const std::vector<std::string>&) {
    if (on_properties) on_properties(iface, changed);
}
void ManagerProxy::onInterfacesAdded(const sdbus::ObjectPath& path, const std::map<std::string, Properties>& ifaces) {
    if (on_interfaces_added) on_interfaces_added(path, ifaces);
}

ContextProxy::ContextProxy(sdbus::IConnection& c, const std::string& name)
    : ProxyInterfaces(c, damond::kBusName, damond::context_object_path(name)) {
    registerProxy();
}

AppProxy::AppProxy(sdbus::IConnection& c, const std::string& app_id)
    : ProxyInterfaces(c, damond::kBusName, damond::app_object_path(app_id)) {
    registerProxy();
}

Damond::Damond(bool signals) {
    try {
        connection_ = sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& e) {
        throw Failure(kUnreachable, "cannot reach the system bus: " + e.getMessage());
    }
    manager_ = std::make_unique<ManagerProxy>(*connection_, signals);
}

namespace {

// One a{sv} from where the message stands.
PropMap read_props(sdbus::Message& m) {
    PropMap out;
    m.enterContainer("{sv}");
    while (m.enterDictEntry("sv")) {
        std::string name, type, contents;
        m >> name;
        m.peekType(type, contents);
        PropValue& v = out[name];
        auto take = [&](auto value) {
            m.enterVariant(contents);
            m >> value;
            m.exitVariant();
            v = std::move(value);
        };
        if (contents == "s")
            take(std::string());
        else if (contents == "o") {
            sdbus::ObjectPath p;
            m.enterVariant(contents);
            m >> p;
            m.exitVariant();
            v = std::string(p);
        } else if (contents == "t")
            take(uint64_t{});
        else if (contents == "u")
            take(uint32_t{});
        else if (contents == "b")
            take(bool{});
        else if (contents == "as")
            take(std::vector<std::string>());
        else if (contents == "au")
            take(std::vector<uint32_t>());
        else if (contents == "ax")
            take(std::vector<int64_t>());
        else if (contents == "a(usss)")
            take(HoldsList());
        else if (contents == "a(ubsus)")
            take(KdamondsList());
        else if (contents == "a(sttt)")
            take(CgroupsList());
        else if (contents == "a{sv}") {
            // Read through, its members as "<property>.<key>" (SystemStat's).
            m.enterVariant(contents);
            for (auto& [key, value] : read_props(m)) out[name + "." + key] = std::move(value);
            m.exitVariant();
        } else {
            sdbus::Variant skipped;  // a type damonctl does not show
            m >> skipped;
        }
        m.exitDictEntry();
    }
    m.clearFlags();
    m.exitContainer();
    return out;
}

}  // namespace

PropMap get_all(sdbus::IConnection& c, const std::string& path, const std::string& interface) {
    auto proxy = sdbus::createProxy(c, damond::kBusName, path);
    auto msg = proxy->createMethodCall("org.freedesktop.DBus.Properties", "GetAll");
    msg << interface;
    auto reply = call([&] { return proxy->callMethod(msg); });
    return read_props(reply);
}

int exit_code_of(const std::string& name) {
    static const std::map<std::string, int> codes = {
        {"org.damond1.Error.NoSuchContext", kNotFound},
        {"org.damond1.Error.NoSuchApp", kNotFound},
        {"org.damond1.Error.NoSuchHold", kNotFound},
        {"org.damond1.Error.InvalidSpec", kInvalid},
        {"org.damond1.Error.InvalidConfig", kInvalid},
        {"org.freedesktop.DBus.Error.InvalidArgs", kInvalid},
        {"org.damond1.Error.Busy", kBusy},
        {"org.damond1.Error.AuthorizationTimedOut", kBusy},
        {"org.damond1.Error.NotSupported", kNotSupported},
        {"org.damond1.Error.LimitExceeded", kLimit},
        {"org.freedesktop.DBus.Error.AccessDenied", kDenied},
        {"org.freedesktop.DBus.Error.UnknownObject", kNotFound},
        {"org.freedesktop.DBus.Error.ServiceUnknown", kUnreachable},
        {"org.freedesktop.DBus.Error.NameHasNoOwner", kUnreachable},
        {"org.freedesktop.DBus.Error.NoReply", kUnreachable},
        {"org.freedesktop.DBus.Error.Disconnected", kUnreachable},
    };
    auto it = codes.find(name);
    return it == codes.end() ? kFailed : it->second;
}

// A call on a context's or app's object that is not there: said as damond
// says it for the manager's methods.
std::string missing_object(const std::string& message) {
    for (const auto& [prefix, what] : {std::pair<std::string, std::string>{damond::kContextPathPrefix, "context"},
                                       {damond::kAppPathPrefix, "app"}}) {
        const size_t at = message.find(prefix);
        if (at == std::string::npos) continue;
        std::string label = message.substr(at + prefix.size());
        label = label.substr(0, label.find_first_of("'\" "));
        if (const auto name = damond::bus_label_unescape(label)) return "no " + what + " named '" + *name + "'";
    }
    return message;
}

void fail_from(const sdbus::Error& e) {
    const int code = exit_code_of(e.getName());
    std::string message = e.getMessage().empty() ? e.getName() : e.getMessage();
    if (e.getName() == "org.freedesktop.DBus.Error.UnknownObject") message = missing_object(message);
    if (code == kUnreachable)
        message = "damond is not running on the system bus (" + e.getName() + ": " + message + ")";
    throw Failure(code, message);
}

}  // namespace damonctl
