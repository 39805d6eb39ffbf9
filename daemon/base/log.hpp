// Logging. Under systemd (stderr is the journal stream systemd gave us,
// $JOURNAL_STREAM) each entry goes to the journal with structured fields:
// CONTEXT=, APP=, KDAMOND= where they apply, and a MESSAGE_ID= per kind of
// transition, so `journalctl MESSAGE_ID=...` finds every switch or hold.
// Elsewhere, plain lines on stderr with syslog priority prefixes.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace damond {

// One id per kind of transition (128-bit, as journald wants them).
namespace message_id {
inline constexpr const char* kContextCreated = "b3810ccb148441edb78c4b0820b6a6f6";
inline constexpr const char* kContextRestored = "1b0f5f2d6c9e4d7a8e3b52c0a9d4e671";
inline constexpr const char* kContextRemoved = "9b9e52cf628f42d9b96edc84898a308e";
inline constexpr const char* kContextState = "47b819c4fb534fa38314b0f31fc4d45c";
inline constexpr const char* kContextCommitted = "7bbd2e8ecc414a0c8277888af41fb32b";
inline constexpr const char* kAppRegistered = "e114c7838eb94cef9391fb4da8d8363e";
inline constexpr const char* kAppSwitched = "32e6969271bf4f62ad2989ec22f2274a";
inline constexpr const char* kAppGone = "099b77e5fffd4c3bb245d9326d5e7d43";
// A background app's reclaim: what it paged out, or why nothing.
inline constexpr const char* kAppReclaim = "133abb3c603349febe4de8c2394f1153";
inline constexpr const char* kHoldTaken = "c85c79b848dd4452a1b24d2ef2e6148b";
inline constexpr const char* kHoldReleased = "2a3b5b0ec348434ea89acd8f1bd08178";
inline constexpr const char* kKdamondAdopted = "7adbeed9813c47dea5ca1ef615cabefa";
inline constexpr const char* kStateRestored = "858dc4ae39a945418de267da3b9833b4";
inline constexpr const char* kConfigReloaded = "dfb3844391cc48998dbb700faf9a1d1e";
inline constexpr const char* kAccessDenied = "8c936ac4cfb84a1e8601703a2a6056c0";
inline constexpr const char* kReady = "5e0c1d2b7a8f4c39b6d4e2f1a0c9b873";
inline constexpr const char* kStopping = "c4a7e9b1d2f34e5a9b8c7d6e5f4a3b21";
inline constexpr const char* kReloadRejected = "9f2e4d6c8b0a4e1f93c5d7b9a1e3f506";
}  // namespace message_id

struct LogFields {
    LogFields() = default;
    LogFields(const char* id, std::string context_name = "", std::string app_id = "", int kdamond_index = -1)
        : message_id(id), context(std::move(context_name)), app(std::move(app_id)), kdamond(kdamond_index) {}

    const char* message_id = nullptr;
    std::string context;
    std::string app;
    int kdamond = -1;
};

// PRIORITY= and MESSAGE= first, then the fields that are set.
std::vector<std::string> journal_fields(int priority, const std::string& message, const LogFields& fields);

// Inside a bus call (AfterCall, after_call.hpp) the entry is written once
// the call is answered.
void log_at(int priority, const std::string& message, const LogFields& fields = {});

inline void log_error(const std::string& msg, const LogFields& f = {}) { log_at(3, msg, f); }
inline void log_warning(const std::string& msg, const LogFields& f = {}) { log_at(4, msg, f); }
inline void log_notice(const std::string& msg, const LogFields& f = {}) { log_at(5, msg, f); }
inline void log_info(const std::string& msg, const LogFields& f = {}) { log_at(6, msg, f); }

}  // namespace damond
