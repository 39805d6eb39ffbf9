#include "base/after_call.hpp"

#include <vector>

namespace damond {

namespace {
thread_local int depth = 0;
thread_local std::vector<std::function<void()>> waiting;
}  // namespace

AfterCall::AfterCall() { ++depth; }

AfterCall::~AfterCall() {
    if (--depth > 0) return;
    // Work may queue more work only while a scope is open; here none is.
    std::vector<std::function<void()>> now;
    now.swap(waiting);
    for (auto& fn : now) fn();
}

void after_call(std::function<void()> fn) {
    if (depth > 0)
        waiting.push_back(std::move(fn));
    else
        fn();
}

}  // namespace damond
