// What every monitoring backend offers for one context: damond's own core
// (InProcessMonitor) or a kdamond of the kernel's (KernelMonitor). All calls
// are synchronous: they return once the monitor has changed; a blocking
// monitor's are made on its context's thread (manager/context_thread.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/damon_context.hpp"
#include "monitor/backend.hpp"
#include "monitor/call_trace.hpp"
#include "monitor/call_watch.hpp"
#include "spec/context_spec.hpp"

namespace damond {
struct ContextFigures;
}

namespace damond {

enum class MonitorState { Running, Paused, Stopped, Failed };

const char* to_string(MonitorState state);

struct SnapshotRegion {
    uint64_t start = 0;
    uint64_t end = 0;
    uint32_t nr_accesses = 0;       // in the aggregation window under way
    uint32_t last_nr_accesses = 0;  // in the last complete window
    uint32_t age = 0;
    // Per data-attribute probe of the spec (kernel 7.2+): the samples of the
    // last aggregation whose page passed the probe's filters.
    std::vector<uint32_t> probe_hits;
    bool operator==(const SnapshotRegion&) const = default;
};

// A scheme's figures: one type from the core's counters to the snapshot
// JSON, the Stats property and the metrics, so a new counter is added to
// DamosStat and read where it is shown.
struct SchemeStats {
    DamosStat counters;                  // nr_tried, sz_tried, nr_applied, sz_applied, qt_exceeds, ...
    uint64_t effective_quota_bytes = 0;  // the size quota of the current charge window; 0: none in force
    bool active = true;                  // false while its watermarks hold it off
    // Each quota goal's metric as last measured and its target, where the
    // backend knows them (damond's core does; the kernel's read-back not).
    struct Goal {
        uint64_t current = 0;
        uint64_t target = 0;
        bool operator==(const Goal&) const = default;
    };
    std::vector<Goal> goals;
    bool operator==(const SchemeStats&) const = default;
};

struct SchemeSnapshot {
    SchemeStats stats;
    std::vector<SnapshotRegion> tried_regions;  // in the last apply pass
    bool operator==(const SchemeSnapshot&) const = default;
};

struct MonitorSnapshot {
    uint64_t nr_aggregations = 0;
    uint64_t nr_samples = 0;
    uint64_t sample_us = 0;  // live intervals: auto-tuning may have moved them
    uint64_t aggr_us = 0;
    std::vector<std::vector<SnapshotRegion>> targets;
    std::vector<SchemeSnapshot> schemes;
    bool operator==(const MonitorSnapshot&) const = default;
};

struct MonitorStats {
    uint64_t nr_samples = 0;
    uint64_t nr_aggregations = 0;
    uint64_t nr_regions = 0;
};

class Monitor {
public:
    virtual ~Monitor() = default;

    virtual Backend backend() const = 0;
    // The kernel's kdamond this monitor drives (fixed for its life), or -1.
    virtual int kdamond() const { return -1; }
    // Why this context runs on that backend, when it is not the daemon's
    // own choice (a full kdamond pool sends apps in process); "" otherwise.
    const std::string& backend_reason() const { return backend_reason_; }
    void set_backend_reason(std::string reason) { backend_reason_ = std::move(reason); }
    // True if start/pause/resume/commit/stop may block for long (sysfs
    // writes): the manager then calls them from another thread and answers
    // from what it last knew meanwhile.
    virtual bool blocking() const { return false; }
    // A blocking monitor's watch over its calls into the kernel: the owner
    // of its operations' deadline reads it (call_watch.hpp).
    virtual CallWatch* call_watch() { return nullptr; }
    // Where its operations' time goes in the kernel (call_trace.hpp): the
    // runner clears it before each operation, on the context's thread.
    virtual CallTrace* call_trace() { return nullptr; }
    // The access source in use and why it was chosen.
    virtual std::string access_source() const = 0;
    virtual std::string access_source_reason() const = 0;
    // Starts monitoring, paused if the spec says "pause": true.
    virtual void start() = 0;
    // Both idempotent. A pause keeps the regions as they were for a
    // snapshot while paused (a kernel context reads them first: pausing
    // hides them).
    virtual void pause() = 0;
    virtual void resume() = 0;
    // A pause nobody will read at once (an app switch's): where reading the
    // regions first costs (a walk of the kdamond's, with the kernel's DAMON
    // lock held meanwhile), it is left out, and a snapshot while paused
    // shows the regions as last read.
    virtual void pause_unread() { pause(); }
    // Applies a validated spec online. Throws DamondError (NotSupported, ...)
    // and then leaves the monitor exactly as it was.
    virtual void commit(const ContextSpec& spec) = 0;
    virtual void stop() = 0;
    // damond is stopping to come back (it keeps its state): a backend whose
    // monitoring runs outside damond may leave it running, to be adopted by
    // the next start. The default stops.
    virtual void stop_for_restart() { stop(); }
    // Work the monitor wants done once it has been left alone this long in
    // its present state (a kernel context's deep pause), 0 for none. The
    // manager then calls settle() as it calls the other operations, unless
    // another operation came first.
    virtual uint64_t settle_after_ms() const { return 0; }
    virtual void settle() {}
    // Whether a resume is likely soon (an app the user just left): a
    // kernel context then settles into a lighter sleep, so that coming back
    // waits less for the kdamond to wake. Takes effect at the next settle.
    virtual void set_quick_resume(bool) {}

    virtual MonitorSnapshot snapshot() const = 0;
    // What a later run needs to warm-start from where this one is (JSON), ""
    // when the backend keeps its state elsewhere (the kernel's kdamonds).
    virtual std::string checkpoint() const { return ""; }
    // Before start(): take the regions, counts and ages of a checkpoint if it
    // was taken of the same thing (same spec, same processes by pid and start
    // time). Returns "" when it will, else why not.
    virtual std::string warm_start_from(const std::string&) { return "this backend does not take checkpoints"; }
    virtual MonitorStats stats() const = 0;
    // The figures of the last aggregation (in-process) or read-back
    // (kernel): never waits for the monitor.
    virtual ContextFigures figures() const = 0;
    virtual MonitorState state() const = 0;
    // Why the monitor is stopped or failed, "" otherwise.
    virtual std::string error() const = 0;
    // Called, possibly from another thread, when the monitor changes state on
    // its own (its target exited, its source failed). The handler must only
    // hand the news over to the thread that owns the context.
    virtual void set_event_handler(std::function<void()> handler) = 0;

private:
    std::string backend_reason_;
};

}  // namespace damond
