// Signals a change causes wait until the reply of the call that caused it is
// sent. dbus-daemon forwards a connection's messages in order, so every
// signal sent before the reply added its routing to the caller's round trip
// (five of them on an app switch). Signals keep their order among
// themselves; they only move behind the reply.
#pragma once

#include <deque>
#include <functional>
#include <utility>

namespace damond {

class DeferredSignals {
public:
    void push(std::function<void()> emit) { queue_.push_back(std::move(emit)); }

    // Emits everything waiting, oldest first.
    void flush() {
        while (!queue_.empty()) {
            std::function<void()> emit = std::move(queue_.front());
            queue_.pop_front();
            emit();
        }
    }

private:
    std::deque<std::function<void()>> queue_;
};

}  // namespace damond
