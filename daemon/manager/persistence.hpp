// Keeps the state file in step with the manager and the app registry, and
// brings them back from it after a restart. Saving happens inside the
// change that caused it — before the caller's reply is sent — so nothing
// acknowledged is lost by a crash; an unchanged state is not written again.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "manager/app_registry.hpp"
#include "manager/finish_here.hpp"
#include "manager/manager.hpp"
#include "manager/saved_state.hpp"

namespace damond {

class Persistence {
public:
    // Checkpoints go to <runtime_dir>/checkpoints when a runtime directory
    // is given (systemd's RuntimeDirectory=, kept across restarts but not
    // reboots, like the processes they describe), else <dir>/checkpoints.
    // `turn` runs the manager's thread while restore() waits (finish_here.hpp).
    Persistence(Manager& manager, AppRegistry& apps, Turn turn, const std::string& dir,
                const std::string& runtime_dir = "");

    // Holds (those whose bus name is gone are dropped), contexts created at
    // run time, config contexts' pause wishes, apps. Returns what could not
    // be restored, one line each. Config contexts must exist already. Until
    // it has run, save() writes nothing: the file holds what is to come back.
    std::vector<std::string> restore(const std::function<bool(const std::string&)>& bus_name_alive);
    // Writes the state if it changed; a failure is logged, never thrown.
    void save();

    // Checkpoints of the contexts' trained state, under <dir>/checkpoints:
    // written when they changed; files of contexts gone are removed.
    void save_checkpoints();
    // Until restore() ends, contexts created warm-start from their
    // checkpoints; call before the config's contexts are created.
    void offer_checkpoints();

    // The contexts' figure history, <dir>/history: saved at stop and now and
    // then (not every point: a day of a hundred contexts is half a MiB), taken
    // back at start if it was kept at the same step. Failures are logged.
    void save_history();
    void load_history();

    SavedState collect() const;
    const std::string& path() const { return file_.path(); }

private:
    Manager& manager_;
    AppRegistry& apps_;
    Turn turn_;
    StateFile file_;
    std::string checkpoint_dir_;
    std::string history_path_;
    std::map<std::string, size_t> checkpoints_written_;  // path -> hash of the text written
    bool restoring_ = true;                              // until restore() has run
    std::string checkpoint_path(const std::string& context) const;
};

}  // namespace damond
