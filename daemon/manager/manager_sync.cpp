// The synchronous forms: each waits for its asynchronous form (wait_for).
#include "manager/manager.hpp"

#include "base/errors.hpp"
#include "base/log.hpp"
#include "manager/or_fail.hpp"

namespace damond {

// --- synchronous forms -------------------------------------------------------

void Manager::create_context(const std::string& name, const std::string& spec_json, const Requester& who) {
    wait_for([&](Done d) { create_context(name, spec_json, d, who); });
}
void Manager::remove_context(const std::string& name) {
    wait_for([&](Done d) { remove_context(name, d); });
}
void Manager::pause_context(const std::string& name) {
    wait_for([&](Done d) { pause_context(name, d); });
}
void Manager::resume_context(const std::string& name) {
    wait_for([&](Done d) { resume_context(name, d); });
}
void Manager::commit_context(const std::string& name, const std::string& patch_json, const Requester& who) {
    wait_for([&](Done d) { commit_context(name, patch_json, d, who); });
}
std::string Manager::snapshot_json(const std::string& name) {
    std::string out;
    wait_for([&](Done d) {
        snapshot_json(name, [&out, d](std::exception_ptr e, std::string json) {
            out = std::move(json);
            d(e);
        });
    });
    return out;
}
MonitorSnapshot Manager::snapshot(const std::string& name) {
    snapshot_json(name);
    return get(name).last_snapshot;
}
uint32_t Manager::hold_pause(const std::string& context, const std::string& who, const std::string& why,
                             const std::string& owner) {
    uint32_t cookie = 0;
    wait_for([&](Done d) {
        hold_pause(context, who, why, owner, [&cookie, d](std::exception_ptr e, uint32_t c) {
            cookie = c;
            d(e);
        });
    });
    return cookie;
}
void Manager::release_pause(uint32_t cookie, const std::string* only_context) {
    wait_for([&](Done d) { release_pause(cookie, only_context, d); });
}
std::vector<std::string> Manager::apply_config(const Config& config) {
    std::vector<std::string> out;
    Inline here(*this);
    apply_config(config, [&out](std::vector<std::string> errors) { out = std::move(errors); });
    return out;
}
void Manager::stop_all(bool for_restart) {
    Inline here(*this);
    stop_all(for_restart, [] {});
}

}  // namespace damond
