#include "bus_errors.hpp"

namespace damond {

std::string bus_error_name(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::NoSuchContext: return "org.damond1.Error.NoSuchContext";
    case ErrorKind::NoSuchApp: return "org.damond1.Error.NoSuchApp";
    case ErrorKind::NoSuchHold: return "org.damond1.Error.NoSuchHold";
    case ErrorKind::InvalidSpec: return "org.damond1.Error.InvalidSpec";
    case ErrorKind::InvalidConfig: return "org.damond1.Error.InvalidConfig";
    case ErrorKind::InvalidArgument: return "org.freedesktop.DBus.Error.InvalidArgs";
    case ErrorKind::Busy: return "org.damond1.Error.Busy";
    case ErrorKind::LimitExceeded: return "org.damond1.Error.LimitExceeded";
    case ErrorKind::AccessDenied: return "org.freedesktop.DBus.Error.AccessDenied";
    case ErrorKind::AuthorizationTimedOut: return "org.damond1.Error.AuthorizationTimedOut";
    case ErrorKind::NotSupported: return "org.damond1.Error.NotSupported";
    case ErrorKind::Failed: return "org.damond1.Error.Failed";
    }
    return "org.damond1.Error.Failed";
}

}  // namespace damond

namespace damond {

std::function<void(const char*)> count_call(const sdbus::IObject& object, BusCallCounts& counts) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    std::string method = msg ? msg->getMemberName() : std::string("unknown");
    // Answered once; a second answer (never expected) is not counted twice.
    auto once = std::make_shared<bool>(false);
    return [&counts, method = std::move(method), once](const char* result) {
        if (*once) return;
        *once = true;
        counts.count(method, result);
    };
}

std::string bus_result_word(const sdbus::Error* error) {
    if (!error) return "ok";
    const std::string& name = error->getName();
    const size_t dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

std::string current_sender(const sdbus::IObject& object) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    return msg ? msg->getSender() : std::string();
}

std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string>> holds_to_bus(
    const std::vector<PauseHold>& holds) {
    std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string>> out;
    for (const PauseHold& h : holds) out.emplace_back(h.cookie, h.context, h.who, h.why);
    return out;
}

sdbus::Error to_bus_error(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const sdbus::Error& e) {
        return e;
    } catch (const DamondError& e) {
        return sdbus::Error(bus_error_name(e.kind()), e.what());
    } catch (const std::exception& e) {
        return sdbus::Error(bus_error_name(ErrorKind::Failed), e.what());
    } catch (...) {
        return sdbus::Error(bus_error_name(ErrorKind::Failed), "unknown error");
    }
}

}  // namespace damond
