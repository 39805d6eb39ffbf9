#include "monitor/call_watch.hpp"

namespace damond {

void CallWatch::begin(std::string what, Clock::time_point until) {
    std::lock_guard<std::mutex> lock(mu_);
    what_ = std::move(what);
    until_ = until;
}

void CallWatch::end() {
    std::lock_guard<std::mutex> lock(mu_);
    until_.reset();
}

std::string CallWatch::overdue(Clock::time_point now) const {
    std::lock_guard<std::mutex> lock(mu_);
    return until_ && now >= *until_ ? what_ : std::string();
}

void CallWatch::give_up() {
    std::lock_guard<std::mutex> lock(mu_);
    given_up_ = true;
}

bool CallWatch::given_up() const {
    std::lock_guard<std::mutex> lock(mu_);
    return given_up_;
}

}  // namespace damond
