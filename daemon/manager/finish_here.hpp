// Waiting for an asynchronous operation of the manager or the app registry:
// for start-up, which restores what ran before the main loop turns, and for
// tests. Everything else answers in its `done`.
#pragma once

#include <exception>
#include <functional>

namespace damond {

// Runs what other threads handed back to the manager's thread (the
// ManagerParts::post queue), waiting a moment for some when there is none.
using Turn = std::function<void()>;

// Starts the operation and turns until its `done` has run; throws its error.
// A blocking monitor's calls keep their deadlines meanwhile (the watchdog
// reports through the same queue), so this ends.
void finish_here(const std::function<void(std::function<void(std::exception_ptr)>)>& start, const Turn& turn);

}  // namespace damond
