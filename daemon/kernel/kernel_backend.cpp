#include "kernel/kernel_backend.hpp"

#include <algorithm>
#include <stdexcept>

#include "base/errors.hpp"
#include "base/log.hpp"
#include "kernel/kernel_monitor.hpp"

namespace damond {

namespace {

// "kernel" needs its own kdamonds: it takes a pool when nothing in the tree
// stands in the way; otherwise it stays "kernel" and every context it is
// asked for fails with Busy naming the obstacle. "auto" then falls back to
// the in-process core and says why.
std::pair<Backend, std::string> choose(BackendChoice wanted, const std::string& obstacle) {
    if (wanted == BackendChoice::InProcess) return {Backend::InProcess, "asked for"};
    if (obstacle.empty()) return {Backend::Kernel, ""};
    if (wanted == BackendChoice::Kernel) return {Backend::Kernel, "backend 'kernel': " + obstacle};
    return {Backend::InProcess, "auto: " + obstacle + "; using the in-process core"};
}

std::string range_of(const std::set<uint32_t>& kdamonds) {
    return std::to_string(*kdamonds.begin()) + ".." + std::to_string(*kdamonds.rbegin());
}

}  // namespace

KernelBackend::KernelBackend(KernelBackendOptions options)
    : options_(std::move(options)),
      admin_tree_(options_.sysfs_root),
      module_tree_(options_.modules_root),
      guarded_(admin_tree_),
      modules_off_(module_tree_, options_.keeps_state && options_.wanted != BackendChoice::InProcess
                                     ? options_.state_dir + "/damon-modules-off"
                                     : "") {
    const bool wants_kernel = options_.wanted != BackendChoice::InProcess;
    // kdamonds an earlier run left running are re-adopted, never turned off.
    std::optional<KdamondPool> recorded;
    if (wants_kernel && options_.keeps_state) {
        std::string why;
        recorded = KdamondPool::recorded(admin_tree_, options_.state_dir, why);
        if (!recorded) log_info("no kdamonds to re-adopt: " + why);
    }
    const std::set<uint32_t> recorded_set = recorded ? recorded->all() : std::set<uint32_t>{};
    auto look = [&](const std::set<uint32_t>& own) {
        return probe_kernel(admin_tree_, module_tree_, options_.release, own);
    };
    probe_ = look(recorded_set);
    // Only when that frees DAMON: a module turned off while another the
    // config keeps still holds it would be a figure lost for nothing.
    auto may_turn_off = [this](const std::string& m) {
        const auto& list = options_.disable_modules;
        return std::find(list.begin(), list.end(), m) != list.end();
    };
    if (wants_kernel && !probe_.exclusive_modules_running.empty() &&
        std::all_of(probe_.exclusive_modules_running.begin(), probe_.exclusive_modules_running.end(), may_turn_off)) {
        for (const std::string& m : probe_.exclusive_modules_running) modules_off_.turn_off(m);
        probe_ = look(recorded_set);
    }
    std::string obstacle = obstacle_to_own_kdamonds(probe_, options_.sysfs_root);
    auto force_configured_pause_mode = [this](KernelProbe& p) {
        if (const std::string why = force_pause_mode(p, options_.forced_pause_mode); !why.empty())
            throw std::runtime_error("kernel.pause_mode: '" + options_.forced_pause_mode + "': " + why);
    };
    // A pause mode the config forces is checked before anything is written,
    // and again on the look that sees damond's own kdamonds.
    if (wants_kernel && obstacle.empty()) {
        KernelProbe check = probe_;
        force_configured_pause_mode(check);
    }
    if (wants_kernel && obstacle.empty() && recorded) {
        // Nothing written: nr_kdamonds must not change under running kdamonds.
        pool_ = std::make_unique<KdamondPool>(std::move(*recorded));
        pool_->own_in(guarded_);
        probe_ = look(pool_->all());
        log_info("re-adopting kdamonds " + range_of(pool_->all()) + " of an earlier run",
                 {message_id::kKdamondAdopted});
    } else if (wants_kernel && obstacle.empty()) {
        try {
            // Sized once: nr_kdamonds cannot change while any kdamond runs.
            pool_ = std::make_unique<KdamondPool>(guarded_, options_.pool_size, options_.state_dir);
            // Stage a skeleton in damond's first kdamond, so the look can see
            // the feature files down to the scheme level.
            const std::string kd = "kdamonds/" + std::to_string(*pool_->all().begin());
            guarded_.write(kd + "/contexts/nr_contexts", "1");
            guarded_.write(kd + "/contexts/0/targets/nr_targets", "1");
            guarded_.write(kd + "/contexts/0/schemes/nr_schemes", "1");
            probe_ = look(pool_->all());
        } catch (const std::exception& e) {
            obstacle = std::string("cannot take kdamonds: ") + e.what();
            pool_.reset();
        }
    }
    if (pool_) force_configured_pause_mode(probe_);
    std::tie(backend_, reason_) = choose(options_.wanted, obstacle);
    if (backend_ == Backend::Kernel && pool_)
        reason_ = std::to_string(pool_->all().size()) + " kdamonds (" + range_of(pool_->all()) + ", " +
                  options_.pool_rule + ") are damond's; pause mode " + to_string(probe_.pause_mode);
    log_info(std::string("backend ") + to_string(backend_) + ": " + reason_);
    // Looks afresh (stat and read only, off the main loop) for a Get unless
    // a look began within the last 50 ms: the Manager's GetAll reads four
    // properties from it, and a look walks the whole tree.
    const std::set<uint32_t> own = pool_ ? pool_->all() : std::set<uint32_t>{};
    // The look runs on KernelFacts' thread, which a look stuck in the kernel
    // keeps past this backend's end (at exit): it has trees and words of
    // its own, nothing of the backend's.
    facts_ = std::make_unique<KernelFacts>(
        [admin = FsSysfsTree(options_.sysfs_root), modules = FsSysfsTree(options_.modules_root),
         release = options_.release, forced = options_.forced_pause_mode, own, has_pool = pool_ != nullptr] {
            KernelProbe p = probe_kernel(admin, modules, release, own);
            if (has_pool) force_pause_mode(p, forced);  // checked at start-up
            return p;
        },
        std::chrono::milliseconds(20), std::chrono::milliseconds(50), probe_);
}

std::unique_ptr<Monitor> KernelBackend::make_monitor(
    const std::string& context, const ContextSpec& spec, const std::function<void(std::function<void()>)>& post,
    const std::function<std::unique_ptr<Monitor>(const std::string& why)>& fallback) {
    if (!pool_) throw DamondError(ErrorKind::Busy, reason_);
    const auto k = pool_->acquire(context);
    if (!k) {
        const std::string full = "all " + std::to_string(pool_->all().size()) + " of damond's kdamonds are in use (" +
                                 options_.pool_rule + ", sized at start-up)";
        // auto: the context runs in process rather than not at all.
        if (options_.wanted == BackendChoice::Auto && spec.ops != Ops::Paddr)
            return fallback(full + "; running in process");
        throw DamondError(ErrorKind::Busy, full);
    }
    KdamondPool* pool = pool_.get();
    const int adopt_pid = pool->recorded_pid(context, *k);
    if (adopt_pid <= 0) pool->claim(context, *k);  // recorded before the kdamond is turned on
    return std::make_unique<KernelMonitor>(
        spec, guarded_, *k, probe_, options_.state_deadline, [pool, k](bool detached) { pool->release(*k, detached); },
        adopt_pid,
        // May run on the context's thread: the record is kept on the main one.
        [pool, post, context, k](int pid) { post([pool, context, k, pid] { pool->running(context, *k, pid); }); },
        options_.deep, &target_exits_);
}

std::string KernelBackend::status_detail() const {
    if (backend_ != Backend::Kernel || !pool_) return "";
    return std::string(to_string(probe_.pause_mode)) + ", " + std::to_string(pool_->in_use()) + " of " +
           std::to_string(pool_->all().size()) + " kdamonds in use";
}

BackendFacts KernelBackend::facts() {
    BackendFacts f = facts_->get();
    // PauseMode says how damond's contexts pause: on the in-process backend
    // that is its own core, whatever the kernel could do.
    if (backend_ != Backend::Kernel) {
        f.pause_mode_reason =
            "contexts run in damond's own DAMON core, which pauses without losing its regions "
            "(the kernel's DAMON would pause by '" +
            f.pause_mode + "')";
        f.pause_mode = "inprocess";
    }
    return f;
}

bool KernelBackend::turned_off(const std::string& module) const {
    const auto& off = modules_off_.owed();
    return std::find(off.begin(), off.end(), module) != off.end();
}

void KernelBackend::turn_off_unclaimed() {
    if (!pool_) return;
    for (const std::string& line : pool_->turn_off_unclaimed(guarded_)) log_info(line);
}

void KernelBackend::stopping(bool release) {
    if (!release) modules_off_.keep_off();
}

}  // namespace damond
