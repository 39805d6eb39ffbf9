// The Manager's view of the kernel's tree (KernelFeatures, PauseMode,
// Kdamonds), looked at off the main loop: a look can block behind the
// kernel's DAMON lock, and the bus must keep answering. A get() answers
// from the last look when that look began at most `fresh_for` ago (one
// GetAll reads four of these properties: one look serves them all);
// otherwise it asks for a fresh look on this object's thread and waits a
// short while for it, and when the tree does not answer in time, it
// returns the last look.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "kernel/kernel_probe.hpp"
#include "monitor/backend_facts.hpp"

namespace damond {

BackendFacts to_backend_facts(const KernelProbe& probe);

class KernelFacts {
public:
    // `first`: the look start-up already took, answered until a fresh one.
    KernelFacts(std::function<KernelProbe()> look, std::chrono::milliseconds wait, std::chrono::milliseconds fresh_for,
                const KernelProbe& first);
    ~KernelFacts();
    KernelFacts(const KernelFacts&) = delete;
    KernelFacts& operator=(const KernelFacts&) = delete;

    BackendFacts get();

    struct Shared;  // with the thread, which may outlive this object in the kernel

private:
    std::chrono::milliseconds wait_;
    std::chrono::milliseconds fresh_for_;
    std::shared_ptr<Shared> shared_;
};

}  // namespace damond
