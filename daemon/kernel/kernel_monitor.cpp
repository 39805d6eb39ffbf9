#include "kernel/kernel_monitor.hpp"

#include "monitor/context_figures.hpp"

#include "base/log.hpp"

#include <cctype>
#include <cstdlib>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "base/errors.hpp"
#include "base/pid_watcher.hpp"
#include "kernel/kdamond_state.hpp"
#include "kernel/readback_files.hpp"
#include "kernel/spec_writer.hpp"

namespace damond {

namespace {

// damond's read-back scheme: stat on every region, acting on none.
Scheme readback_scheme() {
    Scheme s;
    s.action = Action::Stat;
    return s;
}

}  // namespace

KernelMonitor::KernelMonitor(const ContextSpec& spec, SysfsTree& tree, uint32_t kdamond, KernelProbe probe,
                             std::chrono::milliseconds deadline, std::function<void(bool)> on_release, int adopt_pid,
                             std::function<void(int)> on_running, DeepPause deep, TargetExits* exits)
    : exits_(exits ? exits : (own_exits_ = std::make_unique<TargetExits>()).get()),
      timed_(tree, deadline, watch_, "kdamond " + std::to_string(kdamond), &trace_),
      tree_(timed_),
      kdamond_(kdamond),
      probe_(std::move(probe)),
      strategy_(make_pause_strategy(probe_.pause_mode, deep)),
      deep_pause_(deep),
      on_release_(std::move(on_release)),
      adopt_pid_(adopt_pid),
      on_running_(std::move(on_running)),
      spec_(spec) {
    try {
        check_for_kernel(spec, probe_);
    } catch (...) {
        if (on_release_) on_release_(false);
        throw;
    }
}

KernelMonitor::~KernelMonitor() {
    // Given up (a call did not return in time): ended on the thread that was
    // stuck, if the kernel ever let it go; the kdamond is in a state nobody
    // knows and is not handed out again, nor touched.
    const bool given_up = watch_.given_up();
    try {
        if (started_ && !failed_ && !given_up) stop();
    } catch (const std::exception&) {
    }
    stop_watching();
    // A kdamond whose state write hung is not handed out again.
    if (on_release_ && !failed_ && !given_up) on_release_(detached_);
}

std::string KernelMonitor::access_source() const { return std::string("kernel ") + to_string(spec_.ops); }

std::string KernelMonitor::access_source_reason() const {
    return "kdamond " + std::to_string(kdamond_) + " of the kernel's DAMON, pause mode " + to_string(strategy_->mode());
}

void KernelMonitor::set_event_handler(std::function<void()> handler) {
    std::lock_guard<std::mutex> lock(handler_mu_);
    handler_ = std::move(handler);
}

ContextSpec KernelMonitor::with_tuned_intervals(const ContextSpec& spec) {
    // A commit sets the intervals from the files: where the tuner runs and
    // the spec leaves the intervals as they were, the files get what it made
    // of them, or the commit would send it back to the spec's and it would
    // tune again from there. (aggrs 0 in the files: tuning is off there, as
    // in a deep pause; the files' intervals are not the tuner's.)
    const IntervalsGoal& goal = spec.intervals.intervals_goal;
    if (!goal.aggrs || !(spec.intervals == spec_.intervals) ||
        (probe_.features_known && !probe_.features.count("intervals_goal")))
        return spec;
    const std::string iv = ctx() + "/monitoring_attrs/intervals/";
    if (read_or(tree_, iv + "intervals_goal/aggrs", "0") == "0") return spec;
    command(KdamondCommand::UpdateTunedIntervals);
    ContextSpec live = spec;
    live.intervals.sample_us = read_sysfs_u64(tree_, iv + "sample_us", spec.intervals.sample_us);
    live.intervals.aggr_us = read_sysfs_u64(tree_, iv + "aggr_us", spec.intervals.aggr_us);
    return live;
}

void KernelMonitor::stage(const ContextSpec& spec, bool paused) {
    ContextSpec shaped = spec;
    Scheme rb = readback_scheme();
    strategy_->shape(shaped, rb, paused);
    stage_spec(tree_, kdamond_, shaped, {rb});
}

void KernelMonitor::command(KdamondCommand cmd) {
    // EBUSY (another sysfs user holds the kernel's lock) is retried by the tree.
    tree_.write(kdamond_state_path(kdamond_), to_string(cmd));
    check_after(cmd);
}

void KernelMonitor::check_after(KdamondCommand cmd) {
    // Re-read state and pid after every command: a kdamond can stop on its
    // own (a failed commit, its targets gone), and nobody else may restart it.
    // A file that cannot be read says nothing (""): a transient EIO is not
    // a kdamond restarted behind damond's back.
    const std::string state = read_or(tree_, kd() + "/state", "?");
    const std::string pid = read_or(tree_, kd() + "/pid", "");
    const bool running = state == to_string(KdamondCommand::On);
    if (cmd == KdamondCommand::Off) {
        pid_.clear();
        return;
    }
    if (cmd == KdamondCommand::On) {
        pid_ = pid;
        // 0 when unreadable: recorded as claimed (KdamondPool::claim).
        if (on_running_ && running) on_running_(std::atoi(pid.c_str()));
        return;
    }
    if (pid_.empty() && running) pid_ = pid;  // unknown until now
    if (running && !pid_.empty() && !pid.empty() && pid != pid_)
        fail("kdamond " + std::to_string(kdamond_) + " changed pid from " + pid_ + " to " + pid +
             ": something else restarted it");
}

void KernelMonitor::fail(const std::string& why) {
    failed_ = true;
    error_ = why;
    publish();
    std::lock_guard<std::mutex> lock(handler_mu_);
    if (handler_) handler_();
}

template <class Fn>
void KernelMonitor::operation(Fn fn) {
    try {
        fn();
    } catch (const SysfsError& e) {
        publish();
        // A file that did not answer in time: the kdamond is in a state
        // nobody knows, so the context fails, naming the file.
        if (e.code().value() == ETIMEDOUT) {
            fail(std::string("kdamond ") + std::to_string(kdamond_) + ": " + e.what());
            throw DamondError(ErrorKind::Failed, error_);
        }
        throw DamondError(ErrorKind::Failed, std::string("kdamond ") + std::to_string(kdamond_) + ": " + e.what());
    } catch (...) {
        publish();
        throw;
    }
    publish();
}

void KernelMonitor::publish() {
    MonitorState state = MonitorState::Running;
    std::string error = error_;
    if (failed_)
        state = MonitorState::Failed;
    else if (!started_)
        state = MonitorState::Stopped;
    else if (checkpointed())
        state = MonitorState::Paused;
    else {
        bool on = false;
        try {
            on = kdamond_running(tree_, kdamond_);
        } catch (const SysfsError& e) {
            failed_ = true;
            error_ = error = std::string("kdamond ") + std::to_string(kdamond_) + ": " + e.what();
            state = MonitorState::Failed;
        }
        if (!failed_ && !on) {
            state = MonitorState::Stopped;
            error = "kdamond " + std::to_string(kdamond_) + " stopped";
        } else if (!failed_) {
            state = paused_ ? MonitorState::Paused : MonitorState::Running;
        }
    }
    std::lock_guard<std::mutex> lock(status_mu_);
    shown_state_ = state;
    shown_error_ = error;
}

bool KernelMonitor::adopt() {
    // Still running what it ran before damond restarted: keep it, and bring
    // its files in line with the spec by an online commit, which keeps
    // regions, counts and ages (and the pid).
    started_ = true;
    adopted_ = true;
    pid_ = std::to_string(adopt_pid_);
    paused_ = spec_.pause;
    try {
        // Left deeply paused (a crash): the live intervals are not the
        // spec's, and a commit straight back would rescale every age.
        // Through zero, where the kernel converts nothing.
        const std::string iv = ctx() + "/monitoring_attrs/intervals/";
        if (!spec_.intervals.intervals_goal.aggrs &&
            (read_or(tree_, iv + "sample_us", "") != std::to_string(spec_.intervals.sample_us) ||
             read_or(tree_, iv + "aggr_us", "") != std::to_string(spec_.intervals.aggr_us)))
            commit_zero_intervals(*this, spec_);
        stage(with_tuned_intervals(spec_), spec_.pause);
        command(KdamondCommand::Commit);
    } catch (const SysfsError& e) {
        if (e.code().value() == ETIMEDOUT) throw;
        throw DamondError(ErrorKind::Failed, "kdamond " + std::to_string(kdamond_) + ": adopting it: " + e.what());
    }
    if (kdamond_running(tree_, kdamond_)) {
        if (on_running_) on_running_(adopt_pid_);
        log_info("kdamond " + std::to_string(kdamond_) + " (pid " + pid_ + ") adopted as it runs",
                 {message_id::kKdamondAdopted, "", "", static_cast<int>(kdamond_)});
        watch_targets();
        return true;
    }
    // 6.14 and older end a kdamond on a commit they cannot apply, and say
    // nothing: nothing is left to adopt, so it is started anew.
    log_warning("kdamond " + std::to_string(kdamond_) + " ended on the commit that was to adopt it; starting it anew",
                LogFields(nullptr, "", "", static_cast<int>(kdamond_)));
    started_ = false;
    adopted_ = false;
    pid_.clear();
    return false;
}

void KernelMonitor::start() {
    if (started_) return;
    operation([&] {
        if (adopt_pid_ > 0 && kdamond_running(tree_, kdamond_) &&
            read_or(tree_, kd() + "/pid", "") == std::to_string(adopt_pid_) && adopt())
            return;
        // Still running and not adopted (its pid could not be read, or it
        // ended the adopting commit's check): it is damond's all the same
        // (the pool checked it at start-up), so it starts anew rather than
        // run on with nobody managing it, or make "on" fail with EBUSY.
        if (kdamond_running(tree_, kdamond_)) {
            log_warning("kdamond " + std::to_string(kdamond_) + " runs but could not be adopted; starting it anew",
                        LogFields(nullptr, "", "", static_cast<int>(kdamond_)));
            command(KdamondCommand::Off);
        }
        stage(spec_, spec_.pause);
        if (spec_.pause && strategy_->turns_off()) {
            // Paused from the start where pausing means "off": the files are
            // staged, and resume turns it on. (Turning it on here would run it
            // unpaused, and the resume's "on" would then fail with EBUSY.)
            started_ = true;
            paused_ = true;
            watch_targets();
            return;
        }
        command(KdamondCommand::On);
        started_ = true;
        paused_ = spec_.pause;
        watch_targets();
    });
}

void KernelMonitor::watch_targets() {
    std::vector<pid_t> pids;
    for (const Target& t : spec_.targets)
        if (t.pid_target) pids.push_back(static_cast<pid_t>(*t.pid_target));
    if (pids.empty()) return;
    const std::string who = "target process" + std::string(pids.size() > 1 ? "es " : " ") + [&] {
        std::string list;
        for (pid_t p : pids) list += (list.empty() ? "" : ", ") + std::to_string(p);
        return list;
    }();
    // The watcher's thread sleeps until a target exits: no periodic wake-ups.
    // The context ends when the last one has; one gone before it could be
    // watched counts the same.
    targets_left_ = pids.size();
    auto one_gone = [this, who] {
        if (--targets_left_ != 0) return;
        gone_reason_ = who + " exited";
        targets_gone_ = true;
        std::lock_guard<std::mutex> lock(handler_mu_);
        if (handler_) handler_();
    };
    exits_->watch(kd(), pids, one_gone);
    watching_ = true;
}

void KernelMonitor::stop_watching() {
    if (watching_) exits_->unwatch(kd());
    watching_ = false;
}

void KernelMonitor::pause() { pause_kdamond(true); }

void KernelMonitor::pause_unread() { pause_kdamond(strategy_->turns_off()); }

void KernelMonitor::pause_kdamond(bool read_first) {
    if (failed_) throw DamondError(ErrorKind::Failed, "context failed: " + error_);
    if (!started_ || paused_) return;
    if (strategy_->mode() == PauseMode::Unsupported)
        throw DamondError(ErrorKind::NotSupported, "pause: " + probe_.pause_mode_reason);
    if (strategy_->turns_off() && spec_.targets.size() != 1)
        throw DamondError(ErrorKind::NotSupported,
                          "pause: on this kernel pause is a checkpoint of one target's regions, and this context has " +
                              std::to_string(spec_.targets.size()) + " targets");
    operation([&] {
        if (read_first) last_snapshot_ = read_back();  // served while paused: walks are cancelled then
        strategy_->pause(*this, spec_, last_snapshot_);
        paused_ = true;
        spec_.pause = true;
    });
}

void KernelMonitor::resume() {
    if (failed_) throw DamondError(ErrorKind::Failed, "context failed: " + error_);
    if (!started_ || !paused_) return;
    operation([&] { resume_kdamond(); });
}

void KernelMonitor::resume_kdamond() {
    if (deep_) {
        leave_deep_pause(true);
    } else {
        strategy_->resume(*this, spec_);
        if (strategy_->turns_off()) readback_sz_tried_ = 0;  // a new kdamond's stats start from zero
    }
    paused_ = false;
    spec_.pause = false;
}

uint64_t KernelMonitor::deep_interval_wanted() const {
    return quick_resume_ ? deep_pause_.quick_interval_us : deep_pause_.interval_us;
}

uint64_t KernelMonitor::settle_after_ms() const {
    if (!started_ || failed_ || !paused_ || !strategy_->deepens()) return 0;
    if (deep_ && deep_interval_us_ == deep_interval_wanted()) return 0;
    return static_cast<uint64_t>(deep_pause_.after.count());
}

void KernelMonitor::settle() {
    if (settle_after_ms() == 0) return;
    const uint64_t interval_us = deep_interval_wanted();
    operation([&] {
        strategy_->deepen(*this, spec_, interval_us);
        deep_ = true;
        deep_interval_us_ = interval_us;
        log_info("kdamond " + std::to_string(kdamond_) + ": deep pause (wakes every " +
                     std::to_string(interval_us / 1000) + " ms" + (quick_resume_ ? ", a quick resume likely" : "") +
                     ")",
                 LogFields(nullptr, "", "", static_cast<int>(kdamond_)));
    });
}

void KernelMonitor::leave_deep_pause(bool resume) {
    strategy_->undeepen(*this, spec_, resume);
    deep_ = false;
    deep_interval_us_ = 0;
}

void KernelMonitor::commit(const ContextSpec& spec) {
    check_for_kernel(spec, probe_);
    if (!started_ || failed_) throw DamondError(ErrorKind::Busy, "the kdamond is not running");
    operation([&] {
        // A commit stages the whole spec: out of a deep pause first, so the
        // intervals it stages are the ones the kdamond runs with.
        if (deep_) leave_deep_pause(false);
        if (checkpointed()) {
            // The kdamond is off: the spec takes effect when it starts again.
            stage(spec, false);
            spec_ = spec;
            spec_.pause = true;
            if (!spec.pause) resume_kdamond();
            return;
        }
        const bool paused = spec.pause;
        try {
            stage(with_tuned_intervals(spec), paused);
            command(KdamondCommand::Commit);
        } catch (const SysfsError& e) {
            if (e.code().value() == ETIMEDOUT) throw;
            // Put the last good spec back in the files, so a later commit (ours
            // or anyone's) does not apply half of this one.
            const std::string why = std::string("commit failed: ") + e.what();
            try {
                stage(spec_, paused_);
            } catch (const SysfsError& again) {
                if (again.code().value() == ETIMEDOUT) throw;
            }
            if (!kdamond_running(tree_, kdamond_))
                restart_after_refused_commit(why + "; the kernel stopped the kdamond");
            throw DamondError(e.code().value() == EINVAL ? ErrorKind::InvalidSpec : ErrorKind::Failed, why);
        }
        // Up to 6.14 the kdamond takes a commit inside one of its callbacks, and
        // a commit it cannot apply (say, a target gone by then) ends it, while
        // the writer is told nothing went wrong (measured on 6.12).
        if (!kdamond_running(tree_, kdamond_))
            restart_after_refused_commit("the kernel refused the commit and ended kdamond " + std::to_string(kdamond_) +
                                         " (6.14 and older do)");
        spec_ = spec;
        paused_ = paused;
    });
}

void KernelMonitor::restart_after_refused_commit(const std::string& why) {
    // The kdamond is gone with everything it had learned; what is left to
    // save is the monitoring itself, with the last spec the kernel took.
    if (targets_gone_) {
        fail(why);
        throw DamondError(ErrorKind::Failed, error_);
    }
    try {
        stage(spec_, paused_);
        command(KdamondCommand::On);
        readback_sz_tried_ = 0;  // a new kdamond's stats start from zero
    } catch (const std::exception& e) {
        fail(why + "; starting it again with the last good spec failed: " + e.what());
        throw DamondError(ErrorKind::Failed, error_);
    }
    const std::string what =
        why + "; started again (pid " + pid_ + ") with the last good spec: its regions and ages start over";
    log_warning("kdamond " + std::to_string(kdamond_) + ": " + what,
                LogFields(nullptr, "", "", static_cast<int>(kdamond_)));
    throw DamondError(ErrorKind::InvalidSpec, what);
}

void KernelMonitor::stop_for_restart() {
    if (!started_ || failed_) return stop();
    bool left = false;
    operation([&] {
        // A deep pause is left for a plain one: the next damond adopts it
        // with the spec's intervals.
        if (deep_) leave_deep_pause(false);
        // Checkpoint-paused kdamonds are off already; a running or parked
        // one stays as it is for the next damond.
        if (kdamond_running(tree_, kdamond_)) {
            stop_watching();
            started_ = false;
            detached_ = true;
            left = true;
        }
    });
    if (!left) stop();
}

void KernelMonitor::stop() {
    if (!started_ || failed_) return;
    // Stopped whether or not "off" goes through: nobody tries again later
    // (the destructor runs on the manager's thread, which must not wait).
    struct Stopped {
        KernelMonitor& m;
        ~Stopped() {
            m.started_ = false;
            m.deep_ = false;
            m.publish();  // no sysfs: stopped is stopped
        }
    } stopped{*this};
    operation([&] {
        if (kdamond_running(tree_, kdamond_)) command(KdamondCommand::Off);
    });
}

MonitorSnapshot KernelMonitor::read_back() const {
    MonitorSnapshot snap;
    const bool has_regions = !probe_.features_known || probe_.features.count("tried_regions");
    auto self = const_cast<KernelMonitor*>(this);
    const std::string schemes = ctx() + "/schemes/";
    const size_t readback = spec_.schemes.size();
    const std::string sz_tried = schemes + std::to_string(readback) + "/stats/sz_tried";
    const std::string td = schemes + std::to_string(readback) + "/tried_regions";
    std::vector<SnapshotRegion> regions;
    uint64_t after = 0;
    // Which aggregation the regions come from: the walk ends at the first
    // apply after it was asked for, and the read-back scheme's sz_tried grows
    // by the monitored size at each apply. Read before and after the walk
    // (each served within a sampling interval), it grew by exactly one
    // apply unless another slipped in between (a busy CPU);
    // then the walk is taken again, so the count is exact. Before 6.15 the
    // kernel serves state commands only at the end of an aggregation, so
    // the stats read after the walk are always one apply later: read once.
    const bool per_sample = !probe_.version || probe_.version->at_least(6, 15);
    for (int attempt = 0;; ++attempt) {
        uint64_t before = 0;
        if (per_sample) {
            self->command(KdamondCommand::UpdateSchemesStats);
            before = read_sysfs_u64(tree_, sz_tried);
        }
        try {
            if (has_regions) self->command(KdamondCommand::UpdateSchemesTriedRegions);
        } catch (const SysfsError& e) {
            if (e.code().value() == ECANCELED) return last_snapshot_;
            throw;
        }
        self->command(KdamondCommand::UpdateSchemesStats);
        after = read_sysfs_u64(tree_, sz_tried);
        regions = read_tried_regions(tree_, td, spec_.probes.size());
        uint64_t size = 0;
        for (const SnapshotRegion& region : regions) size += region.end - region.start;
        // (None at all where the walk reports the last apply instead of
        // waiting for the next, as the emulator does: exact as well.)
        const bool one_apply = size && after >= before && (after - before + size / 2) / size <= 1;
        if (!per_sample || !has_regions || one_apply || attempt == 3) break;
    }
    count_aggregations(regions, after, readback);
    snap.nr_aggregations = nr_aggregations_;
    snap.targets.push_back(std::move(regions));
    // The size quota in force, where a quota is (goals tune it): the file
    // holds it only on request (6.9 on).
    bool quotas = false;
    for (const Scheme& s : spec_.schemes) quotas = quotas || s.quotas.bytes || s.quotas.ms || !s.quotas.goals.empty();
    quotas = quotas && (!probe_.features_known || probe_.features.count("effective_bytes"));
    if (quotas) self->command(KdamondCommand::UpdateSchemesEffectiveQuotas);
    for (size_t i = 0; i < readback; ++i) {
        const std::string sd = schemes + std::to_string(i);
        SchemeSnapshot s = read_scheme_stats(tree_, sd);
        if (quotas) s.stats.effective_quota_bytes = read_sysfs_u64(tree_, sd + "/quotas/effective_bytes");
        snap.schemes.push_back(s);
    }
    // The files hold what was written; with auto-tuning on, the live
    // intervals are copied into them only on request (DAMON_STAT's figures
    // read 100 ms for an aggregation tuned to 9 s before this).
    if (spec_.intervals.intervals_goal.aggrs != 0 &&
        (!probe_.features_known || probe_.features.count("intervals_goal")))
        self->command(KdamondCommand::UpdateTunedIntervals);
    snap.sample_us = read_sysfs_u64(tree_, ctx() + "/monitoring_attrs/intervals/sample_us");
    snap.aggr_us = read_sysfs_u64(tree_, ctx() + "/monitoring_attrs/intervals/aggr_us");
    snap.nr_samples = ++nr_reads_;  // the kernel exposes no sample count: count read-backs instead
    return snap;
}

void KernelMonitor::count_aggregations(const std::vector<SnapshotRegion>& regions, uint64_t sz_tried,
                                       size_t index) const {
    uint64_t size = 0;
    for (const SnapshotRegion& r : regions) size += r.end - r.start;
    if (size == 0) return;
    if (index != readback_index_ && readback_index_ != SIZE_MAX) {
        // A commit changed the number of schemes: the kernel matches schemes
        // by index, so these stats may have been another scheme's. Count
        // from here on.
        readback_index_ = index;
        readback_sz_tried_ = sz_tried;
        return;
    }
    // Smaller than last time: the kdamond started again behind our back.
    const uint64_t since = sz_tried >= readback_sz_tried_ ? sz_tried - readback_sz_tried_ : sz_tried;
    nr_aggregations_ += (since + size / 2) / size;
    readback_index_ = index;
    readback_sz_tried_ = sz_tried;
}

MonitorSnapshot KernelMonitor::snapshot() const {
    if (!started_ || failed_ || paused_) return last_snapshot_;
    const_cast<KernelMonitor*>(this)->operation([&] { last_snapshot_ = read_back(); });
    return last_snapshot_;
}

ContextFigures KernelMonitor::figures() const { return figures_of(last_snapshot_); }

MonitorStats KernelMonitor::stats() const {
    MonitorStats s;
    s.nr_samples = last_snapshot_.nr_samples;
    s.nr_aggregations = last_snapshot_.nr_aggregations;
    for (const auto& t : last_snapshot_.targets) s.nr_regions += t.size();
    return s;
}

MonitorState KernelMonitor::state() const {
    if (targets_gone_) return MonitorState::Stopped;
    std::lock_guard<std::mutex> lock(status_mu_);
    return shown_state_;
}

std::string KernelMonitor::error() const {
    if (targets_gone_) return gone_reason_;
    std::lock_guard<std::mutex> lock(status_mu_);
    return shown_error_;
}

}  // namespace damond
