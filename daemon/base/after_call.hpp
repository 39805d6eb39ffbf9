// Work that can wait until the bus call being handled on this thread has
// been answered. The bus loop opens an AfterCall around each call; inside
// it, after_call() queues its work, which runs in order when the outermost
// scope ends (after the reply and the signals). Outside one, it runs at once.
// What waits: the call's journal entries, and waking the scheduler thread
// for the pause and the resume of a switch — each of those took a CPU the
// reply's round trip through dbus-daemon wanted on a 2-CPU machine.
#pragma once

#include <functional>

namespace damond {

class AfterCall {
public:
    AfterCall();
    ~AfterCall();
    AfterCall(const AfterCall&) = delete;
    AfterCall& operator=(const AfterCall&) = delete;
};

void after_call(std::function<void()> fn);

}  // namespace damond
