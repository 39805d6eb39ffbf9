// What a blocking monitor's thread is doing in the kernel, and until when
// it may: the thread writes it around each call, whoever owns the
// operation's deadline (the manager's context runner) reads it. A call can
// sit in the kernel for good (a commit to a parked 6.12 kdamond), and no
// thread gets out of write(2) by itself; so the owner of the deadline gives
// the thread up instead of waiting on it, and everything it does after it
// comes back fails at once (given_up()).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace damond {

class CallWatch {
public:
    using Clock = std::chrono::steady_clock;

    // The calling thread enters a call: `what` says it as the error will
    // ("kdamond 3: writing 'Y' to kdamonds/3/contexts/0/pause did not
    // return within 2000 ms"), `until` is its deadline.
    void begin(std::string what, Clock::time_point until);
    void end();
    // The error of the call under way if it has run past its deadline; ""
    // while no call is, or the one that is still has time.
    std::string overdue(Clock::time_point now) const;
    // From now on the thread is on its own: it should stop at its next call.
    void give_up();
    bool given_up() const;

private:
    mutable std::mutex mu_;
    std::string what_;
    std::optional<Clock::time_point> until_;
    bool given_up_ = false;
};

}  // namespace damond
