#include "manager/pause_holds.hpp"

#include "base/errors.hpp"

namespace damond {

uint32_t PauseHolds::add(std::string context, std::string who, std::string why, std::string owner) {
    const uint32_t cookie = next_++;
    if (next_ == 0) next_ = 1;  // 0 is never a cookie
    holds_.emplace(cookie, PauseHold{cookie, std::move(context), std::move(who), std::move(why), std::move(owner)});
    return cookie;
}

std::optional<PauseHold> PauseHolds::remove(uint32_t cookie) {
    auto it = holds_.find(cookie);
    if (it == holds_.end()) return std::nullopt;
    PauseHold h = std::move(it->second);
    holds_.erase(it);
    return h;
}

std::optional<PauseHold> PauseHolds::find(uint32_t cookie) const {
    auto it = holds_.find(cookie);
    if (it == holds_.end()) return std::nullopt;
    return it->second;
}

std::vector<PauseHold> PauseHolds::remove_owned_by(const std::string& owner) {
    std::vector<PauseHold> out;
    if (owner.empty()) return out;
    for (auto it = holds_.begin(); it != holds_.end();) {
        if (it->second.owner == owner) {
            out.push_back(std::move(it->second));
            it = holds_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

std::vector<PauseHold> PauseHolds::remove_on(const std::string& context) {
    std::vector<PauseHold> out;
    for (auto it = holds_.begin(); it != holds_.end();) {
        if (!context.empty() && it->second.context == context) {
            out.push_back(std::move(it->second));
            it = holds_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

bool PauseHolds::covers(const std::string& context) const {
    for (const auto& [cookie, h] : holds_)
        if (h.context.empty() || h.context == context) return true;
    return false;
}

std::vector<PauseHold> PauseHolds::covering(const std::string& context) const {
    std::vector<PauseHold> out;
    for (const auto& [cookie, h] : holds_)
        if (h.context.empty() || h.context == context) out.push_back(h);
    return out;
}

std::vector<PauseHold> PauseHolds::all() const {
    std::vector<PauseHold> out;
    for (const auto& [cookie, h] : holds_) out.push_back(h);
    return out;
}

namespace {

bool has_control_char(const std::string& s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

}  // namespace

void check_hold_text(const std::string& who, const std::string& why) {
    // Their length is limits.text_bytes (Manager::check_hold_limits).
    if (who.empty() || has_control_char(who))
        throw DamondError(ErrorKind::InvalidArgument, "who: must not be empty or contain control characters");
    if (has_control_char(why))
        throw DamondError(ErrorKind::InvalidArgument, "why: must not contain control characters");
}

}  // namespace damond
