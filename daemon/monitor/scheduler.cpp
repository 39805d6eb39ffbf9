#include "monitor/scheduler.hpp"

namespace damond {

Scheduler::TimerId Scheduler::schedule_at(uint64_t when_us, std::function<void()> fn) {
    const TimerId id = next_id_++;
    queue_.emplace(std::make_pair(when_us, id), std::move(fn));
    deadline_of_.emplace(id, when_us);
    return id;
}

void Scheduler::cancel(TimerId id) {
    auto it = deadline_of_.find(id);
    if (it == deadline_of_.end()) return;
    queue_.erase(std::make_pair(it->second, id));
    deadline_of_.erase(it);
}

std::optional<uint64_t> Scheduler::next_deadline() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first.first;
}

size_t Scheduler::run_due(uint64_t now_us) {
    size_t ran = 0;
    while (!queue_.empty() && queue_.begin()->first.first <= now_us) {
        auto node = queue_.extract(queue_.begin());
        deadline_of_.erase(node.key().second);
        node.mapped()();
        ++ran;
    }
    return ran;
}

}  // namespace damond
