#include "monitor/inprocess_monitor.hpp"

#include "errors.hpp"

namespace damond {

const char* to_string(MonitorState state) {
    switch (state) {
    case MonitorState::Running: return "running";
    case MonitorState::Paused: return "paused";
    case MonitorState::Stopped: return "stopped";
    case MonitorState::Failed: return "failed";
    }
    return "?";
}

namespace {

MonitoringAttrs attrs_of(const ContextSpec& spec) {
    return MonitoringAttrs{spec.intervals.sample_us, spec.intervals.aggr_us, spec.intervals.update_us,
                           spec.nr_regions.min, spec.nr_regions.max};
}

std::vector<TargetRanges> ranges_of(const ContextSpec& spec) {
    std::vector<TargetRanges> out;
    for (const Target& t : spec.targets) out.push_back(t.regions);
    return out;
}

std::vector<SyntheticTarget> workloads_of(const ContextSpec& spec) {
    std::vector<SyntheticTarget> out;
    for (const Target& t : spec.targets) {
        SyntheticTarget st;
        if (t.workload) {
            st.seed = t.workload->seed;
            for (const WorkloadSet& s : t.workload->sets)
                st.sets.push_back(SyntheticSet{s.range, static_cast<uint32_t>(s.access_bp)});
        }
        out.push_back(std::move(st));
    }
    return out;
}

}  // namespace

void InProcessMonitor::check_supported(const ContextSpec& spec) {
    if (spec.ops != Ops::Synthetic)
        throw DamondError(ErrorKind::NotSupported,
                          std::string("ops: the in-process backend supports only 'synthetic' so far, not '") +
                              to_string(spec.ops) + "'");
    if (!spec.schemes.empty())
        throw DamondError(ErrorKind::NotSupported, "schemes: the in-process backend does not run DAMOS schemes yet");
    if (spec.intervals.intervals_goal.aggrs != 0)
        throw DamondError(ErrorKind::NotSupported,
                          "intervals.intervals_goal: the in-process backend does not auto-tune intervals yet");
}

InProcessMonitor::InProcessMonitor(const ContextSpec& spec, Scheduler& scheduler, const Clock& clock)
    : scheduler_(scheduler), clock_(clock), start_paused_(spec.pause) {
    check_supported(spec);
    auto source = std::make_unique<SyntheticSource>(workloads_of(spec));
    source_ = source.get();
    core_ = std::make_unique<DamonCore>(attrs_of(spec), ranges_of(spec), std::move(source), spec.seed);
}

InProcessMonitor::~InProcessMonitor() { disarm(); }

void InProcessMonitor::start() {
    if (state_ != MonitorState::Stopped) return;
    core_->start();
    state_ = MonitorState::Paused;
    if (!start_paused_) resume();
}

void InProcessMonitor::pause() {
    if (state_ != MonitorState::Running) return;
    // The interval in progress is dropped unchecked: regions, nr_accesses and
    // ages stay exactly as the last finished sample left them.
    disarm();
    state_ = MonitorState::Paused;
}

void InProcessMonitor::resume() {
    if (state_ != MonitorState::Paused) return;
    state_ = MonitorState::Running;
    arm();
}

void InProcessMonitor::commit(const ContextSpec& spec) {
    check_supported(spec);
    if (state_ == MonitorState::Stopped || state_ == MonitorState::Failed)
        throw DamondError(ErrorKind::Busy, std::string("the monitor is ") + to_string(state_) + ", not running");
    core_->commit(attrs_of(spec), ranges_of(spec));
    source_->set_targets(workloads_of(spec));
    // "pause" is part of the spec, as the kernel's pause file is.
    if (spec.pause) pause();
    else resume();
}

void InProcessMonitor::stop() {
    disarm();
    state_ = MonitorState::Stopped;
}

void InProcessMonitor::arm() {
    core_->prepare_sample();
    timer_ = scheduler_.schedule_at(clock_.now_us() + core_->context().attrs.sample_us, [this] { on_sample_end(); });
}

void InProcessMonitor::disarm() {
    if (timer_) scheduler_.cancel(*timer_);
    timer_.reset();
}

void InProcessMonitor::on_sample_end() {
    timer_.reset();
    core_->finish_sample();
    nr_samples_++;
    arm();
}

MonitorSnapshot InProcessMonitor::snapshot() const {
    MonitorSnapshot snap;
    const DamonContext& ctx = core_->context();
    snap.nr_aggregations = ctx.nr_aggregations;
    snap.nr_samples = nr_samples_;
    for (const MonitorTarget& t : ctx.targets) {
        std::vector<SnapshotRegion> regions;
        for (const Region& r : t.regions) regions.push_back(SnapshotRegion{r.start, r.end, r.nr_accesses, r.last_nr_accesses, r.age});
        snap.targets.push_back(std::move(regions));
    }
    return snap;
}

MonitorStats InProcessMonitor::stats() const {
    MonitorStats s;
    s.nr_samples = nr_samples_;
    s.nr_aggregations = core_->context().nr_aggregations;
    for (const MonitorTarget& t : core_->context().targets) s.nr_regions += t.regions.size();
    return s;
}

}  // namespace damond
