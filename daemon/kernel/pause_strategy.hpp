// How a kernel context pauses, one strategy per PauseMode (the kernel's
// mm/damon/sysfs.c and core.c: the 7.2 pause file, watermarks, commit):
//   native      the 7.2 pause file: the kdamond sleeps one sampling
//               interval per loop and keeps everything;
//   watermarks  every scheme parked (6.16-rc6..7.1): it sleeps one park
//               interval per loop and keeps everything;
//   checkpoint  the kdamond is turned off and started again from the region
//               boundaries it had (6.9..6.16-rc5): boundaries survive, ages do not.
// A deep pause is the same pause made to sleep longer: a paused context left
// alone for a while costs about one wake-up per `interval_us` instead of one
// per sampling interval, and a resume waits up to that long for the kdamond
// to wake. Native pauses deepen by moving the intervals through zero, where
// the kernel does not rescale ages and access counts
// (damon_update_monitoring_results skips conversion when an old or new
// interval is 0); parked ones by a longer park interval, which the kernel
// only takes after one sample unparked. Checkpoints cost no wake-ups already.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernel/kdamond_state.hpp"
#include "kernel/kernel_probe.hpp"
#include "monitor/monitor.hpp"
#include "spec/context_spec.hpp"

namespace damond {

// The kdamond a strategy works on: damond's own, one context.
class KdamondFiles {
public:
    virtual ~KdamondFiles() = default;
    // Relative to the tree: kdamonds/<K>/contexts/0.
    virtual std::string context_dir() const = 0;
    virtual std::string read(const std::string& path) = 0;
    virtual void write(const std::string& path, const std::string& value) = 0;
    // A command to the kdamond's state file.
    virtual void command(KdamondCommand cmd) = 0;
    // Stages the whole spec, damond's read-back scheme appended, as the
    // strategy shapes it paused or running.
    virtual void stage(const ContextSpec& spec, bool paused) = 0;
};

struct DeepPause {
    std::chrono::milliseconds after{10000};  // 0: never deepen
    uint64_t interval_us = 1500000;          // how long a deeply paused kdamond sleeps per loop
    // The lighter sleep of a context likely to resume soon (set_quick_resume):
    // a resume waits at most this long for the kdamond to wake.
    uint64_t quick_interval_us = 150000;
};

class PauseStrategy {
public:
    virtual ~PauseStrategy() = default;
    virtual PauseMode mode() const = 0;
    // The files of `spec` and damond's read-back scheme, paused or running.
    virtual void shape(ContextSpec& spec, Scheme& readback, bool paused) const = 0;
    // True if a paused kdamond is off (then it starts only on resume).
    virtual bool turns_off() const { return false; }
    // `at_pause`: the regions read back right before.
    virtual void pause(KdamondFiles& k, const ContextSpec& spec, const MonitorSnapshot& at_pause) = 0;
    virtual void resume(KdamondFiles& k, const ContextSpec& spec) = 0;
    // Deep pause, from a plain pause or from a deep pause of another
    // interval, to sleeping `interval_us` per loop; undeepen goes back to a
    // plain pause, or, with `resume`, straight to running in as few commits
    // as it can.
    virtual bool deepens() const { return false; }
    virtual void deepen(KdamondFiles&, const ContextSpec&, uint64_t /*interval_us*/) {}
    virtual void undeepen(KdamondFiles&, const ContextSpec&, bool /*resume*/) {}
};

std::unique_ptr<PauseStrategy> make_pause_strategy(PauseMode mode, const DeepPause& deep);

// Commits intervals of 0 (tuning off, which would refuse them): the commit
// to them and the one away from them leave ages and access counts as they
// are. The kdamond spins meanwhile, for as long as one commit takes.
void commit_zero_intervals(KdamondFiles& k, const ContextSpec& spec);

// Watermarks that park a scheme: with high 0 any free memory is "above
// high", so it deactivates and the kdamond sleeps `interval_us` per loop.
Watermarks parked_watermarks(uint64_t interval_us);

}  // namespace damond
