// Where foreground/background events come from besides the D-Bus hook. Each
// source is a file descriptor the main loop polls and a handler it calls
// when the fd is readable; every event goes to the same sink, which feeds
// AppRegistry like SetAppState does.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace damond {

struct AppEvent {
    enum class Kind { Foreground, Background, Gone };
    std::string app_id;
    Kind kind = Kind::Background;
    std::vector<uint32_t> pids;  // the app's processes as the source sees them
    std::string why;             // for the log: "cgroup ... frozen", ...
    std::string cgroup;          // where the app runs: it is registered for that cgroup's user
};

using AppEventSink = std::function<void(const AppEvent&)>;

class EventSource {
public:
    virtual ~EventSource() = default;
    virtual int fd() const = 0;
    // Reads what is pending on fd() and reports the events it means.
    virtual void handle() = 0;
};

}  // namespace damond
