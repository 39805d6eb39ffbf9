#include "fake_polkit.hpp"

#include <map>

namespace damond::testing {

FakePolkit::FakePolkit(std::set<std::string> allowed) : allowed_(std::move(allowed)) {
    connection_ = sdbus::createSystemBusConnection("org.freedesktop.PolicyKit1");
    object_ = sdbus::createObject(*connection_, "/org/freedesktop/PolicyKit1/Authority");
    object_->registerMethod("CheckAuthorization")
        .onInterface("org.freedesktop.PolicyKit1.Authority")
        .implementedAs([this](Answer&& answer,
                              const sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>& subject,
                              const std::string& action, const std::map<std::string, std::string>&, uint32_t flags,
                              const std::string&) {
            bool allowed;
            {
                std::lock_guard<std::mutex> lock(mu_);
                asked_.push_back(action + " for " + std::get<0>(subject) + " flags " + std::to_string(flags));
                if (stalled_) {
                    held_.emplace_back(action, std::move(answer));
                    return;
                }
                allowed = allowed_.count(action) != 0;
            }
            // Answered outside mu_: the answer takes the connection's lock,
            // which stall() may be waiting for while another thread has mu_.
            answer.returnResults({allowed, false, std::map<std::string, std::string>{}});
        });
    object_->finishRegistration();
    connection_->enterEventLoopAsync();
}

FakePolkit::~FakePolkit() { connection_->leaveEventLoop(); }

void FakePolkit::allow(std::set<std::string> allowed) {
    std::lock_guard<std::mutex> lock(mu_);
    allowed_ = std::move(allowed);
}

void FakePolkit::stall(bool stalled) {
    std::vector<std::pair<bool, Answer>> answers;
    {
        std::lock_guard<std::mutex> lock(mu_);
        stalled_ = stalled;
        if (stalled) return;
        for (auto& [action, answer] : held_) answers.emplace_back(allowed_.count(action) != 0, std::move(answer));
        held_.clear();
    }
    for (auto& [allowed, answer] : answers)
        answer.returnResults({allowed, false, std::map<std::string, std::string>{}});
}

std::vector<std::string> FakePolkit::asked() {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
}

std::string policy_with_polkit(const std::string& shipped) {
    return R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <include>)" +
           shipped + R"(</include>
  <policy user="root"><allow own="org.freedesktop.PolicyKit1"/></policy>
  <policy context="default"><allow send_destination="org.freedesktop.PolicyKit1"/></policy>
</busconfig>
)";
}

}  // namespace damond::testing
