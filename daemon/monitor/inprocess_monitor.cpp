#include "monitor/inprocess_monitor.hpp"

#include <nlohmann/json.hpp>
#include "spec/json_object_reader.hpp"

#include "base/errors.hpp"
#include "core/synthetic_source.hpp"
#include "sources/process_source.hpp"
#include "sources/source_factory.hpp"
#include "spec/spec_json.hpp"

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
                           spec.nr_regions.min,      spec.nr_regions.max,    spec.intervals.intervals_goal};
}

bool kernel_only(Action a) {
    return a == Action::LruPrio || a == Action::LruDeprio || a == Action::MigrateHot || a == Action::MigrateCold;
}

std::vector<SnapshotRegion> snapshot_regions(const std::vector<Region>& regions) {
    std::vector<SnapshotRegion> out;
    out.reserve(regions.size());
    for (const Region& r : regions)
        out.push_back(SnapshotRegion{r.start, r.end, r.nr_accesses, r.last_nr_accesses, r.age, {}});
    return out;
}

std::vector<TargetRanges> ranges_of(const ContextSpec& spec) {
    std::vector<TargetRanges> out;
    for (const Target& t : spec.targets) out.push_back(t.regions);
    return out;
}

}  // namespace

void InProcessMonitor::check_supported(const ContextSpec& spec) const {
    for (size_t i = 0; i < spec.schemes.size(); ++i) {
        const Scheme& s = spec.schemes[i];
        const std::string path = "schemes[" + std::to_string(i) + "]";
        if (kernel_only(s.action))
            throw DamondError(ErrorKind::NotSupported, path + ".action: '" + to_string(s.action) +
                                                           "' needs the kernel's physical-address operations; "
                                                           "the in-process backend cannot do it");
        if (caps_.foreign && s.action != Action::Stat && remote_advice(s.action) < 0)
            throw DamondError(ErrorKind::NotSupported, path + ".action: '" + to_string(s.action) +
                                                           "' cannot be applied to another process (the kernel's "
                                                           "process_madvise takes only cold, pageout, willneed and "
                                                           "collapse)");
        for (size_t f = 0; f < s.filters.size(); ++f) {
            const FilterType t = s.filters[f].type;
            if (t == FilterType::Addr || t == FilterType::Target) continue;
            if (t == FilterType::Anon && caps_.anon_filter) continue;
            throw DamondError(ErrorKind::NotSupported, path + ".filters[" + std::to_string(f) + "].type: the " +
                                                           source_name_ + " source cannot tell '" + to_string(t) +
                                                           "' pages apart");
        }
    }
}

InProcessMonitor::InProcessMonitor(const ContextSpec& spec, Executor& executor, SystemMetrics& metrics,
                                   const ProcFs& fs)
    : executor_(executor), start_paused_(spec.pause), spec_ops_(spec.ops), spec_intervals_(spec.intervals) {
    SourceChoice choice = make_access_source(spec, fs);
    source_ = choice.source.get();
    source_name_ = choice.name;
    source_reason_ = choice.reason;
    caps_ = source_->caps();
    check_supported(spec);
    retarget_ = std::move(choice.retarget);
    std::vector<TargetRanges> ranges = choice.initial_ranges ? std::move(*choice.initial_ranges) : ranges_of(spec);
    core_ = std::make_unique<DamonCore>(attrs_of(spec), ranges, spec.schemes, std::move(choice.source), spec.seed,
                                        executor.clock(), metrics);
    identity_ = identity_of(spec);
}

std::string InProcessMonitor::identity_of(const ContextSpec& spec) {
    ContextSpec s = spec;
    s.pause = false;
    nlohmann::json id = {{"spec", spec_to_json(s)}, {"processes", nlohmann::json::array()}};
    for (const Target& t : spec.targets)
        if (t.pid_target) {
            const auto start = process_start_time(static_cast<uint32_t>(*t.pid_target));
            id["processes"].push_back({{"pid", *t.pid_target}, {"start_time", start ? *start : 0}});
        }
    return id.dump();
}

std::string InProcessMonitor::checkpoint() const {
    nlohmann::json cp = {{"identity", identity_}, {"targets", nlohmann::json::array()}};
    executor_.run_sync([&] {
        for (const MonitorTarget& t : core_->context().targets) {
            nlohmann::json regions = nlohmann::json::array();
            for (const Region& r : t.regions)
                regions.push_back({r.start, r.end, r.nr_accesses, r.nr_accesses_bp, r.last_nr_accesses, r.age});
            cp["targets"].push_back(regions);
        }
    });
    return cp.dump();
}

std::string InProcessMonitor::warm_start_from(const std::string& checkpoint) {
    std::vector<MonitorTarget> targets;
    try {
        const nlohmann::json cp = nlohmann::json::parse(checkpoint);
        if (cp.at("identity").get<std::string>() != identity_)
            return "the checkpoint is of another spec or other processes";
        for (const nlohmann::json& t : cp.at("targets")) {
            MonitorTarget target;
            uint64_t last_end = 0;
            for (const nlohmann::json& r : t) {
                Region region;
                region.start = json_to_u64(r.at(0), "start", UINT64_MAX);
                region.end = json_to_u64(r.at(1), "end", UINT64_MAX);
                region.nr_accesses = static_cast<uint32_t>(json_to_u64(r.at(2), "nr_accesses", UINT32_MAX));
                region.nr_accesses_bp = static_cast<uint32_t>(json_to_u64(r.at(3), "nr_accesses_bp", UINT32_MAX));
                region.last_nr_accesses = static_cast<uint32_t>(json_to_u64(r.at(4), "last_nr_accesses", UINT32_MAX));
                region.age = static_cast<uint32_t>(json_to_u64(r.at(5), "age", UINT32_MAX));
                if (region.start >= region.end || region.start < last_end)
                    return "the checkpoint's regions are not in order";
                last_end = region.end;
                target.regions.push_back(region);
            }
            targets.push_back(std::move(target));
        }
    } catch (const std::exception& e) {
        return std::string("the checkpoint does not parse: ") + e.what();
    }
    warm_ = std::move(targets);
    return "";
}

InProcessMonitor::~InProcessMonitor() {
    executor_.run_sync([&] { disarm(); });
}

void InProcessMonitor::set_event_handler(std::function<void()> handler) {
    std::lock_guard<std::mutex> lock(handler_mu_);
    event_handler_ = std::move(handler);
}

void InProcessMonitor::start() {
    executor_.run_sync([&] {
        if (state_ != MonitorState::Stopped || !error_.empty()) return;
        core_->start(warm_ ? &*warm_ : nullptr);
        warm_.reset();
        publish_stats();
        publish_figures();
        set_state(MonitorState::Paused);
        if (!start_paused_) {
            set_state(MonitorState::Running);
            arm();
        }
    });
}

// Not waited for: a switch pauses one context and resumes another, and two
// waits for the executor's thread were most of its cost. Everything that
// reads a monitor goes through the same queue after it, so a snapshot taken
// after pause() returns is of the paused monitor.
void InProcessMonitor::pause() {
    if (!wish(MonitorState::Running, MonitorState::Paused)) return;
    executor_.post([this] {
        if (state_ != MonitorState::Running) return;
        // The interval in progress is dropped unchecked: regions, nr_accesses
        // and ages stay exactly as the last finished sample left them.
        disarm();
        state_ = MonitorState::Paused;
    });
}

void InProcessMonitor::resume() {
    if (!wish(MonitorState::Paused, MonitorState::Running)) return;
    executor_.post([this] {
        if (state_ != MonitorState::Paused) return;
        state_ = MonitorState::Running;
        arm();
    });
}

void InProcessMonitor::commit(const ContextSpec& spec) {
    check_supported(spec);
    executor_.run_sync([&] {
        if (state_ == MonitorState::Stopped || state_ == MonitorState::Failed)
            throw DamondError(ErrorKind::Busy, std::string("the monitor is ") + to_string(state_) + ", not running");
        if (spec.ops != spec_ops_)
            throw DamondError(ErrorKind::NotSupported, std::string("ops: a running context cannot change from '") +
                                                           to_string(spec_ops_) + "' to '" + to_string(spec.ops) +
                                                           "'; create a new context");
        // Targets that change process are opened first: a missing one fails
        // the commit before anything has changed.
        if (retarget_) retarget_(spec);
        MonitoringAttrs attrs = attrs_of(spec);
        if (spec.intervals == spec_intervals_) {
            // The intervals were not touched: keep what auto-tuning made of
            // them, as damond would after update_tuned_intervals on a kernel.
            attrs.sample_us = core_->context().attrs.sample_us;
            attrs.aggr_us = core_->context().attrs.aggr_us;
        }
        core_->commit(attrs, ranges_of(spec), spec.schemes);
        spec_intervals_ = spec.intervals;
        publish_figures();  // schemes and intervals as committed, even while paused
        // "pause" is part of the spec, as the kernel's pause file is.
        if (spec.pause && state_ == MonitorState::Running) {
            disarm();
            set_state(MonitorState::Paused);
        } else if (!spec.pause && state_ == MonitorState::Paused) {
            set_state(MonitorState::Running);
            arm();
        }
    });
    identity_ = identity_of(spec);  // a checkpoint from now on is of this spec
}

void InProcessMonitor::stop() {
    executor_.run_sync([&] {
        disarm();
        set_state(MonitorState::Stopped);
    });
}

MonitorState InProcessMonitor::state() const { return published_state_.load(std::memory_order_acquire); }

std::string InProcessMonitor::error() const {
    std::string e;
    executor_.run_sync([&] { e = error_; });
    return e;
}

DamonContext InProcessMonitor::core_context() const {
    DamonContext c;
    executor_.run_sync([&] { c = core_->context(); });
    return c;
}

void InProcessMonitor::fail(MonitorState state, const std::string& why) {
    disarm();
    set_state(state);
    error_ = why;
    std::lock_guard<std::mutex> lock(handler_mu_);
    if (event_handler_) event_handler_();
}

void InProcessMonitor::arm() {
    // kdamond_wait_activation: while every scheme's watermarks hold it off,
    // only the watermarks are checked, at their interval.
    const uint64_t wait = core_->activation_wait_us();
    if (wait) {
        wait_for_activation(wait);
        return;
    }
    core_->prepare_sample();
    timer_ = executor_.scheduler().schedule_at(executor_.clock().now_us() + core_->context().attrs.sample_us,
                                               [this] { on_sample_end(); });
}

void InProcessMonitor::wait_for_activation(uint64_t wait_us) {
    timer_ = executor_.scheduler().schedule_at(executor_.clock().now_us() + wait_us, [this] {
        timer_.reset();
        arm();
    });
}

void InProcessMonitor::disarm() {
    if (timer_) executor_.scheduler().cancel(*timer_);
    timer_.reset();
}

void InProcessMonitor::on_sample_end() {
    timer_.reset();
    try {
        core_->finish_sample();
    } catch (const std::exception& e) {
        fail(MonitorState::Failed, e.what());
        return;
    }
    nr_samples_++;
    publish_stats();
    if (core_->context().nr_aggregations != figures_aggregation_) publish_figures();
    // kdamond_need_stop: with every target gone there is nothing to monitor.
    if (core_->all_targets_gone()) {
        fail(MonitorState::Stopped, source_->gone_reason());
        return;
    }
    arm();
}

MonitorSnapshot InProcessMonitor::snapshot() const {
    MonitorSnapshot snap;
    executor_.run_sync([&] { snap = take_snapshot(); });
    return snap;
}

MonitorSnapshot InProcessMonitor::take_snapshot() const {
    MonitorSnapshot snap;
    const DamonContext& ctx = core_->context();
    snap.nr_aggregations = ctx.nr_aggregations;
    snap.nr_samples = nr_samples_;
    snap.sample_us = ctx.attrs.sample_us;
    snap.aggr_us = ctx.attrs.aggr_us;
    for (const MonitorTarget& t : ctx.targets) snap.targets.push_back(snapshot_regions(t.regions));
    for (const DamosScheme& s : ctx.schemes)
        snap.schemes.push_back(SchemeSnapshot{SchemeStats{s.stat, s.quota.esz, s.wmarks_activated, {}},
                                              snapshot_regions(s.tried_regions)});
    return snap;
}

void InProcessMonitor::publish_stats() {
    uint64_t regions = 0;
    for (const MonitorTarget& t : core_->context().targets) regions += t.regions.size();
    published_samples_.store(nr_samples_, std::memory_order_relaxed);
    published_aggregations_.store(core_->context().nr_aggregations, std::memory_order_relaxed);
    published_regions_.store(regions, std::memory_order_relaxed);
}

void InProcessMonitor::publish_figures() {
    figures_aggregation_ = core_->context().nr_aggregations;
    figures_of(core_->context(), nr_samples_, figures_builder_, figures_scratch_);
    std::lock_guard<std::mutex> lock(figures_mu_);
    std::swap(figures_, figures_scratch_);
}

ContextFigures InProcessMonitor::figures() const {
    std::lock_guard<std::mutex> lock(figures_mu_);
    return figures_;
}

MonitorStats InProcessMonitor::stats() const {
    MonitorStats s;
    s.nr_samples = published_samples_.load(std::memory_order_relaxed);
    s.nr_aggregations = published_aggregations_.load(std::memory_order_relaxed);
    s.nr_regions = published_regions_.load(std::memory_order_relaxed);
    return s;
}

}  // namespace damond
