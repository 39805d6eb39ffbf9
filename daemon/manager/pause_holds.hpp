// Pause holds: "keep this paused while I look at it". A hold names who took
// it and why, covers one context or every context, and is reference-counted
// by nature — a context stays paused while any hold covers it, whatever
// Resume or an app switch asked for, and goes back to what they asked for
// when the last hold goes. A hold remembers the bus name that took it, so it
// can be dropped when that client disconnects (power-profiles-daemon's
// pattern). Plain data: the manager decides what a change means.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace damond {

struct PauseHold {
    uint32_t cookie = 0;
    std::string context;  // "" covers every context, present and future
    std::string who;
    std::string why;
    std::string owner;  // the holder's unique bus name, "" if none
};

class PauseHolds {
public:
    // Cookies start at 1 and are not reused while the daemon runs.
    uint32_t add(std::string context, std::string who, std::string why, std::string owner);
    std::optional<PauseHold> remove(uint32_t cookie);
    std::optional<PauseHold> find(uint32_t cookie) const;
    std::vector<PauseHold> remove_owned_by(const std::string& owner);
    // Holds taken on exactly this context (not the global ones).
    std::vector<PauseHold> remove_on(const std::string& context);

    bool covers(const std::string& context) const;
    // The holds covering the context, global ones included.
    std::vector<PauseHold> covering(const std::string& context) const;
    std::vector<PauseHold> all() const;
    bool empty() const { return holds_.empty(); }
    // Restoring after a restart: the same cookies, and no reuse of later ones.
    void restore(const PauseHold& hold) { holds_[hold.cookie] = hold; }
    uint32_t next_cookie() const { return next_; }
    void set_next_cookie(uint32_t next) { next_ = next ? next : 1; }

private:
    uint32_t next_ = 1;
    std::map<uint32_t, PauseHold> holds_;
};

// who: not empty; neither who nor why with control characters (their
// length is limits.text_bytes). Throws DamondError(InvalidArgument) naming
// the argument.
void check_hold_text(const std::string& who, const std::string& why);

}  // namespace damond
