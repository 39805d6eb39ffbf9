// A stand-in for polkitd on a private bus: answers CheckAuthorization yes
// for the actions it is told to allow, no for the rest, and records what it
// was asked. It owns org.freedesktop.PolicyKit1 on $DBUS_SYSTEM_BUS_ADDRESS,
// so that bus's policy must let root own that name.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

namespace damond::testing {

class FakePolkit {
public:
    explicit FakePolkit(std::set<std::string> allowed);
    ~FakePolkit();
    void allow(std::set<std::string> allowed);
    // While stalled, questions are recorded and never answered, as a
    // polkitd stuck on a slow rule would; unstalling answers those held.
    void stall(bool stalled);
    // "<action> for <subject kind> flags <flags>", oldest first.
    std::vector<std::string> asked();

private:
    std::mutex mu_;
    std::set<std::string> allowed_;
    std::vector<std::string> asked_;
    using Answer = sdbus::Result<sdbus::Struct<bool, bool, std::map<std::string, std::string>>>;
    bool stalled_ = false;
    std::vector<std::pair<std::string, Answer>> held_;  // action, answer
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<sdbus::IObject> object_;
};

// Bus policy text that includes `shipped` (the tree's org.damond1.conf) and
// lets root own org.freedesktop.PolicyKit1 and everyone call it, as
// polkitd's own policy file does on a real system.
std::string policy_with_polkit(const std::string& shipped);

}  // namespace damond::testing
