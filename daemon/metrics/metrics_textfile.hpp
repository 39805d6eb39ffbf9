// The metrics as a file for the node exporter's textfile collector
// (metrics.textfile): replaced whole by a rename, so a scrape never reads a
// half-written file. Not fsynced: a crash loses nothing the next interval
// does not rewrite, and a phone's flash should not see a sync per interval.
#pragma once

#include <string>

namespace damond {

class MetricsTextfile {
public:
    // `path` ends in ".prom" (the collector reads nothing else); the
    // temporary file beside it does not.
    explicit MetricsTextfile(std::string path) : path_(std::move(path)) {}
    // Throws std::system_error naming the file.
    void write(const std::string& text) const;
    // At stop: a file left behind would keep reporting a damond that is
    // gone (the collector serves whatever it finds).
    void remove() const;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace damond
