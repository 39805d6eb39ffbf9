#include "kernel/pause_strategy.hpp"

#include <string>

namespace damond {

namespace {

// The park interval of a plain watermark pause: it bounds the resume latency.
constexpr uint64_t kParkIntervalUs = 100000;

std::string intervals_dir(KdamondFiles& k) { return k.context_dir() + "/monitoring_attrs/intervals/"; }

bool tuned(const ContextSpec& spec) { return spec.intervals.intervals_goal.aggrs != 0; }

// With interval tuning on, a commit resets the tuned intervals to the files'
// values: copy the tuned ones into the files first.
void keep_tuned_intervals(KdamondFiles& k, const ContextSpec& spec) {
    if (tuned(spec)) k.command(KdamondCommand::UpdateTunedIntervals);
}

class NativePause : public PauseStrategy {
public:
    explicit NativePause(DeepPause deep) : deep_(deep) {}
    PauseMode mode() const override { return PauseMode::Native; }
    void shape(ContextSpec& spec, Scheme&, bool paused) const override { spec.pause = paused; }

    void pause(KdamondFiles& k, const ContextSpec& spec, const MonitorSnapshot&) override {
        keep_tuned_intervals(k, spec);
        k.write(k.context_dir() + "/pause", "Y");
        k.command(KdamondCommand::Commit);
    }
    void resume(KdamondFiles& k, const ContextSpec& spec) override {
        keep_tuned_intervals(k, spec);
        k.write(k.context_dir() + "/pause", "N");
        k.command(KdamondCommand::Commit);
    }

    bool deepens() const override { return deep_.after.count() > 0; }

    void deepen(KdamondFiles& k, const ContextSpec& spec, uint64_t interval_us) override {
        const std::string iv = intervals_dir(k);
        // Deep already (another interval): the live ones were kept then.
        if (sample_us_.empty()) {
            keep_tuned_intervals(k, spec);
            sample_us_ = k.read(iv + "sample_us");
            aggr_us_ = k.read(iv + "aggr_us");
        }
        commit_zero_intervals(k, spec);
        // A paused kdamond sleeps one sampling interval per loop.
        const std::string d = std::to_string(interval_us);
        k.write(iv + "sample_us", d);
        k.write(iv + "aggr_us", d);
        k.command(KdamondCommand::Commit);
    }

    void undeepen(KdamondFiles& k, const ContextSpec& spec, bool resume) override {
        const std::string iv = intervals_dir(k);
        commit_zero_intervals(k, spec);
        k.write(iv + "sample_us", sample_us_);
        k.write(iv + "aggr_us", aggr_us_);
        if (tuned(spec)) k.write(iv + "intervals_goal/aggrs", std::to_string(spec.intervals.intervals_goal.aggrs));
        if (resume) k.write(k.context_dir() + "/pause", "N");
        k.command(KdamondCommand::Commit);
        sample_us_.clear();
        aggr_us_.clear();
    }

private:
    DeepPause deep_;
    std::string sample_us_, aggr_us_;  // the live intervals before deepening
};

class WatermarkPause : public PauseStrategy {
public:
    explicit WatermarkPause(DeepPause deep) : deep_(deep) {}
    PauseMode mode() const override { return PauseMode::Watermarks; }

    void shape(ContextSpec& spec, Scheme& readback, bool paused) const override {
        spec.pause = false;
        if (!paused) return;
        for (Scheme& s : spec.schemes) s.watermarks = parked_watermarks(kParkIntervalUs);
        readback.watermarks = parked_watermarks(kParkIntervalUs);
    }

    // Every scheme, damond's read-back scheme included, so that none stays active.
    void pause(KdamondFiles& k, const ContextSpec& spec, const MonitorSnapshot&) override {
        keep_tuned_intervals(k, spec);
        park_every(k, spec, kParkIntervalUs);
    }
    void resume(KdamondFiles& k, const ContextSpec& spec) override {
        keep_tuned_intervals(k, spec);
        write_all(k, spec,
                  [&](size_t i) { return i < spec.schemes.size() ? spec.schemes[i].watermarks : Watermarks{}; });
        k.command(KdamondCommand::Commit);
    }

    bool deepens() const override { return deep_.after.count() > 0; }
    // A parked kdamond keeps sleeping the shortest park interval it has seen
    // since it started waiting (kdamond_wait_activation's min_wait_time
    // only ever shrinks), so a longer one takes effect only after it has
    // left the wait: unparked for one sample, then parked again. That sample
    // may end an aggregation: ages are kept to the aggregation.
    void deepen(KdamondFiles& k, const ContextSpec& spec, uint64_t interval_us) override {
        resume(k, spec);
        park_every(k, spec, interval_us);
    }
    void undeepen(KdamondFiles& k, const ContextSpec& spec, bool resume) override {
        if (resume)
            this->resume(k, spec);
        else
            park_every(k, spec, kParkIntervalUs);
    }

private:
    template <class WatermarksOf>
    void write_all(KdamondFiles& k, const ContextSpec& spec, WatermarksOf of) {
        for (size_t i = 0; i <= spec.schemes.size(); ++i) {
            const Watermarks w = of(i);
            const std::string d = k.context_dir() + "/schemes/" + std::to_string(i) + "/watermarks/";
            k.write(d + "metric", to_string(w.metric));
            k.write(d + "interval_us", std::to_string(w.interval_us));
            k.write(d + "high", std::to_string(w.high));
            k.write(d + "mid", std::to_string(w.mid));
            k.write(d + "low", std::to_string(w.low));
        }
    }
    void park_every(KdamondFiles& k, const ContextSpec& spec, uint64_t interval_us) {
        write_all(k, spec, [interval_us](size_t) { return parked_watermarks(interval_us); });
        k.command(KdamondCommand::Commit);
    }

    DeepPause deep_;
};

class CheckpointPause : public PauseStrategy {
public:
    PauseMode mode() const override { return PauseMode::Checkpoint; }
    void shape(ContextSpec& spec, Scheme&, bool) const override { spec.pause = false; }
    bool turns_off() const override { return true; }

    // Parking would never resume on these kernels: keep the region
    // boundaries and turn the kdamond off. Ages and access counts are lost.
    void pause(KdamondFiles& k, const ContextSpec&, const MonitorSnapshot& at_pause) override {
        boundaries_.clear();
        if (!at_pause.targets.empty())
            for (const SnapshotRegion& r : at_pause.targets[0]) boundaries_.push_back({r.start, r.end});
        k.command(KdamondCommand::Off);
    }
    // Start again from the checkpoint's boundaries as initial regions.
    void resume(KdamondFiles& k, const ContextSpec& spec) override {
        ContextSpec from = spec;
        from.pause = false;
        if (!boundaries_.empty() && !from.targets.empty()) from.targets[0].regions = boundaries_;
        k.stage(from, false);
        k.command(KdamondCommand::On);
    }

private:
    std::vector<AddrRange> boundaries_;
};

class NoPause : public PauseStrategy {
public:
    PauseMode mode() const override { return PauseMode::Unsupported; }
    void shape(ContextSpec& spec, Scheme&, bool) const override { spec.pause = false; }
    void pause(KdamondFiles&, const ContextSpec&, const MonitorSnapshot&) override {}
    void resume(KdamondFiles&, const ContextSpec&) override {}
};

}  // namespace

void commit_zero_intervals(KdamondFiles& k, const ContextSpec& spec) {
    const std::string iv = intervals_dir(k);
    if (tuned(spec)) k.write(iv + "intervals_goal/aggrs", "0");
    k.write(iv + "sample_us", "0");
    k.write(iv + "aggr_us", "0");
    k.command(KdamondCommand::Commit);
}

Watermarks parked_watermarks(uint64_t interval_us) {
    return Watermarks{WatermarkMetric::FreeMemRate, interval_us, 0, 0, 1000};
}

std::unique_ptr<PauseStrategy> make_pause_strategy(PauseMode mode, const DeepPause& deep) {
    switch (mode) {
    case PauseMode::Native: return std::make_unique<NativePause>(deep);
    case PauseMode::Watermarks: return std::make_unique<WatermarkPause>(deep);
    case PauseMode::Checkpoint: return std::make_unique<CheckpointPause>();
    case PauseMode::Unsupported: break;
    }
    return std::make_unique<NoPause>();
}

}  // namespace damond
