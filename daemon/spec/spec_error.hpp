#pragma once

#include <stdexcept>
#include <string>

namespace damond {

// A spec broke a rule. `path` is the JSON path of the offending field
// ("intervals.sample_us", "schemes[0].action"), `rule` says what is wrong.
class SpecError : public std::runtime_error {
public:
    SpecError(std::string path, std::string rule)
        : std::runtime_error((path.empty() ? std::string("spec") : path) + ": " + rule),
          path_(std::move(path)),
          rule_(std::move(rule)) {}

    const std::string& path() const { return path_; }
    const std::string& rule() const { return rule_; }

private:
    std::string path_;
    std::string rule_;
};

}  // namespace damond
