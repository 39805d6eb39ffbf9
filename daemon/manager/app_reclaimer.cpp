#include "manager/app_reclaimer.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <system_error>

#include "base/errors.hpp"
#include "base/log.hpp"

namespace damond {

namespace {

template <class T>
T required(T value, const char* name, const char* why) {
    if (!value) throw std::invalid_argument(std::string("AppReclaimer::Parts.") + name + " is missing: " + why);
    return value;
}

std::string mib(uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / (1 << 20));
    return text;
}

}  // namespace

AppReclaimer::AppReclaimer(Parts parts, AppReclaimConfig config) : parts_(std::move(parts)), config_(config) {
    required(parts_.manager, "manager", "no context would be read");
    required(parts_.now_us, "now_us", "nothing would be timed");
    required(parts_.post, "post", "no reclaim would be heard of");
    required(parts_.schedule, "schedule", "no reclaim would start");
    required(parts_.system, "system", "nothing would be paged out");
    required(parts_.changed, "changed", "nobody would see the figures");
    worker_ = std::thread([this] { run_jobs(); });
}

AppReclaimer::~AppReclaimer() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        quit_ = true;
        for (Job& j : jobs_) j.stop->store(true);
        for (auto& [id, app] : apps_)
            if (app.running) app.running->store(true);
    }
    cv_.notify_all();
    worker_.join();
}

void AppReclaimer::left_foreground(const std::string& app_id, const std::string& fg, const std::string& bg,
                                   const std::string& cgroup, std::map<uint32_t, uint64_t> start_times) {
    AppState& app = apps_[app_id];
    const uint64_t generation = ++app.generation;
    app.cgroup = cgroup;
    app.left_us = parts_.now_us();
    app.fg = fg;
    app.bg = bg;
    app.start_times = std::move(start_times);
    app.looked_again = false;
    parts_.schedule(parts_.now_us() + config_.after_ms * 1000,
                    [this, app_id, generation, fg, bg] { start(app_id, generation, fg, bg); });
}

void AppReclaimer::before_foreground(const std::string& app_id, std::function<void()> go) {
    auto it = apps_.find(app_id);
    if (it == apps_.end()) return go();
    ++it->second.generation;
    thaw(it->second, app_id);  // before anything of it runs again
    if (!it->second.running) return go();
    it->second.running->store(true);
    cv_.notify_all();
    it->second.waiting.push_back(std::move(go));
}

void AppReclaimer::returned(const std::string& app_id, const std::vector<uint32_t>& pids) {
    uint64_t before = 0;
    for (uint32_t pid : pids) before += parts_.system->major_faults(pid).value_or(0);
    const uint64_t generation = apps_[app_id].generation;
    parts_.schedule(parts_.now_us() + config_.refault_window_ms * 1000, [this, app_id, pids, before, generation] {
        auto it = apps_.find(app_id);
        if (it == apps_.end() || it->second.generation != generation) return;  // gone, or away again meanwhile
        uint64_t after = 0;
        for (uint32_t pid : pids) after += parts_.system->major_faults(pid).value_or(0);
        it->second.figures.refault_bytes = (after > before ? after - before : 0) * parts_.system->page_size();
        it->second.figures.returns_counted++;
        parts_.changed(app_id);
    });
}

void AppReclaimer::forget(const std::string& app_id) {
    auto it = apps_.find(app_id);
    if (it == apps_.end()) return;
    if (it->second.running) it->second.running->store(true);
    thaw(it->second, app_id);
    // Its job may still end: finished() finds no app and says nothing.
    for (auto& go : it->second.waiting) go();
    apps_.erase(it);
}

const AppReclaimer::Figures* AppReclaimer::figures(const std::string& app_id) const {
    auto it = apps_.find(app_id);
    return it == apps_.end() ? nullptr : &it->second.figures;
}

void AppReclaimer::thaw(AppState& app, const std::string& app_id) {
    if (!app.figures.frozen) return;
    app.figures.frozen = false;
    try {
        parts_.system->set_frozen(app.cgroup, false);
    } catch (const std::exception& e) {
        log_error("app '" + app_id + "': thawing " + app.cgroup + ": " + e.what(),
                  {message_id::kAppReclaim, "", app_id});
    }
    parts_.changed(app_id);
}

void AppReclaimer::outcome(const std::string& app_id, const std::string& what_done, bool stopped) {
    AppState& app = apps_[app_id];
    std::string what = what_done;
    if (config_.freeze && !stopped) {
        if (app.cgroup.empty()) {
            what += "; not frozen: it has no cgroup of its own (apps.rules[].cgroup)";
        } else {
            try {
                parts_.system->set_frozen(app.cgroup, true);
                app.figures.frozen = true;
                what += "; " + app.cgroup + " frozen";
            } catch (const std::exception& e) {
                what += std::string("; not frozen: ") + e.what();
            }
        }
    }
    app.figures.last_outcome = what;
    log_info("app '" + app_id + "': reclaim: " + what, {message_id::kAppReclaim, "", app_id});
    parts_.changed(app_id);
}

std::string AppReclaimer::look_again(const std::string& app_id, uint64_t generation) {
    AppState& app = apps_[app_id];
    const uint64_t at = app.left_us + (config_.after_ms + config_.min_idle_ms) * 1000;
    if (app.looked_again || at <= parts_.now_us()) return "";
    app.looked_again = true;
    parts_.schedule(at, [this, app_id, generation, fg = app.fg, bg = app.bg] { start(app_id, generation, fg, bg); });
    char said[64];
    std::snprintf(said, sizeof said, "; it looks once more %.0f s after it left",
                  double(config_.after_ms + config_.min_idle_ms) / 1000);
    return said;
}

void AppReclaimer::start(const std::string& app_id, uint64_t generation, const std::string& fg, const std::string& bg) {
    auto it = apps_.find(app_id);
    if (it == apps_.end() || it->second.generation != generation || it->second.running) return;
    it->second.due_us = parts_.now_us();
    const ReclaimSystem::Swap swap = parts_.system->swap();
    if (swap.total_bytes == 0) return outcome(app_id, "nothing paged out: there is no swap");
    if (swap.free_bytes * 100 < swap.total_bytes * uint64_t(config_.min_free_swap_percent))
        return outcome(app_id, "nothing paged out: " + std::to_string(swap.free_bytes * 100 / swap.total_bytes) +
                                   "% of swap is free, under apps.reclaim.min_free_swap_percent (" +
                                   std::to_string(config_.min_free_swap_percent) + "%)");
    // The paused foreground context gives what it saw until its pause; the
    // background one what it sees now.
    parts_.manager->snapshot(fg, [this, app_id, generation, bg](std::exception_ptr e, MonitorSnapshot fg_snap) {
        if (e) return outcome(app_id, "nothing paged out: reading its foreground context: " + error_text(e));
        parts_.manager->snapshot(
            bg, [this, app_id, generation, bg, fg_snap](std::exception_ptr e2, MonitorSnapshot bg_snap) {
                if (e2) return outcome(app_id, "nothing paged out: reading its background context: " + error_text(e2));
                plan(app_id, generation, bg, fg_snap, bg_snap);
            });
    });
}

void AppReclaimer::plan(const std::string& app_id, uint64_t generation, const std::string& bg,
                        const MonitorSnapshot& fg_snap, const MonitorSnapshot& bg_snap) {
    auto it = apps_.find(app_id);
    if (it == apps_.end() || it->second.generation != generation || it->second.running) return;
    it->second.read_us = parts_.now_us();
    ReclaimRule rule;
    rule.min_idle_us = config_.min_idle_ms * 1000;
    rule.min_aggregations = config_.min_aggregations;
    rule.max_bytes = config_.max_bytes;
    rule.page_size = parts_.system->page_size();
    // Refused before any work: a context that has not learned enough.
    const ReclaimChoice choice = choose_reclaim_ranges(fg_snap, bg_snap, rule);
    if (!choice.refused.empty())
        return outcome(app_id, "nothing paged out: " + choice.refused + look_again(app_id, generation));
    if (!parts_.manager->has_context(bg)) return;
    Job job{app_id,
            fg_snap,
            bg_snap,
            parts_.manager->target_pids(bg),
            it->second.start_times,
            rule,
            config_.bytes_per_s,
            std::make_shared<std::atomic<bool>>(false)};
    it->second.running = job.stop;
    {
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
}

void AppReclaimer::run_jobs() {
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return quit_ || !jobs_.empty(); });
            if (quit_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        std::string seen;
        const auto ranges = choose(job, seen);
        uint64_t planned = 0;
        for (const auto& entry : ranges)
            for (const ReclaimRange& r : entry.second) planned += r.end - r.start;
        const auto t0 = std::chrono::steady_clock::now();
        std::string error;
        const uint64_t bytes = run(job, ranges, error);
        const uint64_t took_us = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
        const bool stopped = job.stop->load();
        parts_.post([this, app_id = job.app_id, bytes, planned, took_us, stopped, error, seen] {
            finished(app_id, bytes, planned, took_us, stopped, error, seen);
        });
    }
}

std::vector<std::pair<uint32_t, std::vector<ReclaimRange>>> AppReclaimer::choose(const Job& job, std::string& seen) {
    // Anonymous memory only, as each process maps it now.
    std::vector<std::vector<ReclaimRange>> anon;
    for (uint32_t pid : job.pids) anon.push_back(pid ? parts_.system->anonymous(pid) : std::vector<ReclaimRange>{});
    const ReclaimChoice choice = choose_reclaim_ranges(job.foreground, job.background, job.rule, &anon);
    ReclaimRule unlimited = job.rule;
    unlimited.max_bytes = 0;
    seen = "of its anonymous memory, idle long enough in the foreground context " +
           mib(choose_reclaim_ranges(job.foreground, job.foreground, unlimited, &anon).bytes) +
           ", in the background one " +
           mib(choose_reclaim_ranges(job.background, job.background, unlimited, &anon).bytes);
    std::vector<std::pair<uint32_t, std::vector<ReclaimRange>>> out;
    for (size_t t = 0; t < choice.targets.size() && t < job.pids.size(); ++t)
        if (job.pids[t] && !choice.targets[t].empty()) out.emplace_back(job.pids[t], choice.targets[t]);
    return out;
}

uint64_t AppReclaimer::run(const Job& job, const std::vector<std::pair<uint32_t, std::vector<ReclaimRange>>>& ranges,
                           std::string& error) {
    const uint64_t page = std::max<uint64_t>(parts_.system->page_size(), 1);
    // A tenth of a second of the rate per call: a stop waits at most that.
    const uint64_t chunk = std::max(page, job.bytes_per_s / 10 / page * page);
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t done = 0;
    for (const auto& [pid, of_pid] : ranges) {
        const auto known = job.start_times.find(pid);
        const uint64_t start_time = known == job.start_times.end() ? 0 : known->second;
        for (const ReclaimRange& r : of_pid) {
            for (uint64_t a = r.start; a < r.end; a += chunk) {
                if (job.stop->load()) return done;
                try {
                    done += parts_.system->page_out(pid, start_time, {{a, std::min(r.end, a + chunk), r.idle_us}});
                } catch (const std::system_error& e) {
                    error = e.what();  // the process gone, most likely: its other ranges are no use
                    goto next_process;
                }
                // Keep to the rate: this much should have taken done / rate.
                const auto due = t0 + std::chrono::microseconds(done * 1000000 / job.bytes_per_s);
                std::unique_lock<std::mutex> lock(mu_);
                cv_.wait_until(lock, due, [&] { return quit_ || job.stop->load(); });
            }
        }
    next_process:;
    }
    return done;
}

void AppReclaimer::finished(const std::string& app_id, uint64_t bytes, uint64_t planned, uint64_t took_us, bool stopped,
                            const std::string& error, const std::string& seen) {
    auto it = apps_.find(app_id);
    if (it == apps_.end()) return;
    AppState& app = it->second;
    app.running.reset();
    Figures& f = app.figures;
    f.reclaims++;
    f.last_bytes = bytes;
    f.total_bytes += bytes;
    f.last_at_us = parts_.now_us();
    char took[32];
    std::snprintf(took, sizeof took, "%.1f s", double(took_us) / 1e6);
    std::string what = planned ? "paged out " + mib(bytes) + " of " + mib(planned) +
                                     " of anonymous memory idle in both contexts in " + took
                               : "nothing paged out: nothing was idle long enough in both contexts";
    // When, for whoever wonders why it came later than after_ms: reading
    // the contexts waits for their kdamonds, and reclaims of several apps
    // take turns.
    char when[96];
    std::snprintf(when, sizeof when, ", %.1f s after it left (its contexts read in %.1f s)",
                  double(f.last_at_us - app.left_us) / 1e6, double(app.read_us - app.due_us) / 1e6);
    if (planned) what += when;
    if (stopped) what += ", stopped by its return to the foreground";
    if (!planned && !stopped && error.empty()) what += look_again(app_id, app.generation);
    if (!error.empty()) what += " (" + error + ")";
    what += " (" + seen + ")";
    outcome(app_id, what, stopped);
    auto waiting = std::move(app.waiting);
    app.waiting.clear();
    for (auto& go : waiting) go();
}

}  // namespace damond
