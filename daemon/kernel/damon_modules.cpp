#include "kernel/damon_modules.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/atomic_file.hpp"
#include "base/log.hpp"

namespace damond {

DamonModulesTurnedOff::DamonModulesTurnedOff(SysfsTree& modules, std::string record)
    : modules_(modules), record_(std::move(record)) {
    if (record_.empty()) return;
    std::ifstream in(record_);
    for (std::string m; std::getline(in, m);) {
        // Someone may have turned it back on meanwhile: then nothing is owed.
        if (m.empty() || read_or(modules_, m + "/parameters/enabled", "") != "N") continue;
        off_.push_back(m);
        log_info("DAMON module " + m + " was left off by an earlier run; it goes back on when damond releases DAMON");
    }
}

DamonModulesTurnedOff::~DamonModulesTurnedOff() {
    if (keep_off_) return;
    for (const std::string& m : off_) {
        try {
            modules_.write(m + "/parameters/enabled", "Y");
            log_info("turned DAMON module " + m + " back on");
        } catch (const std::exception& e) {
            log_error("cannot turn DAMON module " + m + " back on: " + e.what());
        }
    }
    off_.clear();
    try {
        save_record();
    } catch (const std::exception& e) {
        log_error(std::string("DAMON modules record: ") + e.what());
    }
}

void DamonModulesTurnedOff::turn_off(const std::string& module) {
    try {
        modules_.write(module + "/parameters/enabled", "N");
        if (std::find(off_.begin(), off_.end(), module) == off_.end()) off_.push_back(module);
        log_info("turned DAMON module " + module + " off (damon_modules: disable)");
    } catch (const std::exception& e) {
        log_error("cannot turn DAMON module " + module + " off: " + e.what());
    }
}

void DamonModulesTurnedOff::keep_off() {
    keep_off_ = true;
    for (const std::string& m : off_)
        log_info("DAMON module " + m +
                 " stays off while damond's kdamonds keep running for its next start "
                 "(Release() hands DAMON back)");
    try {
        save_record();
    } catch (const std::exception& e) {
        log_error(std::string("DAMON modules record: ") + e.what());
    }
}

void DamonModulesTurnedOff::save_record() const {
    if (record_.empty()) return;
    if (off_.empty()) {
        std::error_code ec;
        std::filesystem::remove(record_, ec);
        return;
    }
    std::string text;
    for (const std::string& m : off_) text += m + "\n";
    write_file_atomically(record_, text);
}

}  // namespace damond
