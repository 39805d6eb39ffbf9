// Bus method calls answered, by method and result ("ok" or the error's last
// name part: AccessDenied, NoSuchContext, ...). Both sets are closed (the
// interfaces' methods, damond's errors), so the series stay few.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace damond {

class BusCallCounts {
public:
    using Key = std::pair<std::string, std::string>;  // method, result
    void count(const std::string& method, const std::string& result) { counts_[{method, result}]++; }
    const std::map<Key, uint64_t>& all() const { return counts_; }

private:
    std::map<Key, uint64_t> counts_;
};

}  // namespace damond
