// Runs fn; an exception it throws goes to `done` instead: how the
// manager's asynchronous forms report an error found before anything runs.
#pragma once

#include <exception>
#include <functional>

namespace damond {

template <class Fn>
void or_fail(const std::function<void(std::exception_ptr)>& done, Fn fn) {
    try {
        fn();
    } catch (...) {
        done(std::current_exception());
    }
}

}  // namespace damond
