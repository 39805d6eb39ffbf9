#include "kernel/damon_modules.hpp"

#include "log.hpp"

namespace damond {

DamonModulesTurnedOff::~DamonModulesTurnedOff() {
    for (const std::string& m : off_) {
        try {
            modules_.write(m + "/parameters/enabled", "Y");
            log_info("turned DAMON module " + m + " back on");
        } catch (const std::exception& e) {
            log_error("cannot turn DAMON module " + m + " back on: " + e.what());
        }
    }
}

void DamonModulesTurnedOff::turn_off(const std::string& module) {
    try {
        modules_.write(module + "/parameters/enabled", "N");
        off_.push_back(module);
        log_info("turned DAMON module " + module + " off (damon_modules: disable)");
    } catch (const std::exception& e) {
        log_error("cannot turn DAMON module " + module + " off: " + e.what());
    }
}

}  // namespace damond
