#include "kernel/kernel_facts.hpp"

namespace damond {

BackendFacts to_backend_facts(const KernelProbe& probe) {
    BackendFacts f;
    f.features.assign(probe.features.begin(), probe.features.end());
    f.pause_mode = to_string(probe.pause_mode);
    f.pause_mode_reason = probe.pause_mode_reason;
    f.kdamonds = probe.kdamonds;
    return f;
}

struct KernelFacts::Shared {
    std::function<KernelProbe()> look;
    std::mutex mu;
    std::condition_variable cv;
    uint64_t asked = 0, answered = 0;
    bool quit = false;
    BackendFacts last;
    // When the look that gave `last` began; the start-up look counts as
    // long ago, so the first get() looks afresh.
    std::chrono::steady_clock::time_point last_began{};

    static void loop(std::shared_ptr<Shared> s) {
        std::unique_lock<std::mutex> lock(s->mu);
        for (;;) {
            s->cv.wait(lock, [&] { return s->quit || s->asked > s->answered; });
            if (s->quit) return;
            const uint64_t serving = s->asked;
            const auto began = std::chrono::steady_clock::now();
            lock.unlock();
            BackendFacts fresh;
            bool ok = true;
            try {
                fresh = to_backend_facts(s->look());
            } catch (const std::exception&) {
                ok = false;
            }
            lock.lock();
            if (ok) {
                s->last = std::move(fresh);
                s->last_began = began;
            }
            s->answered = serving;
            s->cv.notify_all();
        }
    }
};

KernelFacts::KernelFacts(std::function<KernelProbe()> look, std::chrono::milliseconds wait,
                         std::chrono::milliseconds fresh_for, const KernelProbe& first)
    : wait_(wait), fresh_for_(fresh_for), shared_(std::make_shared<Shared>()) {
    shared_->look = std::move(look);
    shared_->last = to_backend_facts(first);
    std::thread(Shared::loop, shared_).detach();  // a look stuck in the kernel keeps its thread
}

KernelFacts::~KernelFacts() {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->quit = true;
    shared_->cv.notify_all();
}

BackendFacts KernelFacts::get() {
    std::unique_lock<std::mutex> lock(shared_->mu);
    if (shared_->last_began != std::chrono::steady_clock::time_point{} &&
        std::chrono::steady_clock::now() - shared_->last_began <= fresh_for_)
        return shared_->last;
    const uint64_t mine = ++shared_->asked;
    shared_->cv.notify_all();
    shared_->cv.wait_for(lock, wait_, [&] { return shared_->answered >= mine; });
    return shared_->last;
}

}  // namespace damond
