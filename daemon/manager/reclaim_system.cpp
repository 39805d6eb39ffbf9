#include "manager/reclaim_system.hpp"

#include <unistd.h>

#include "sources/proc_fs.hpp"
#include "sources/process_pageout.hpp"

namespace damond {

namespace {

class LiveReclaimSystem : public ReclaimSystem {
public:
    Swap swap() override {
        const SwapSpace s = read_swap_space();
        return {s.total_bytes, s.free_bytes};
    }
    uint64_t page_out(uint32_t pid, uint64_t start_time, const std::vector<ReclaimRange>& ranges) override {
        std::vector<std::pair<uint64_t, uint64_t>> r;
        r.reserve(ranges.size());
        for (const ReclaimRange& range : ranges) r.emplace_back(range.start, range.end);
        return page_out_process(pid, start_time, r);
    }
    std::optional<uint64_t> major_faults(uint32_t pid) override { return process_major_faults(pid); }
    std::vector<ReclaimRange> anonymous(uint32_t pid) override {
        std::vector<ReclaimRange> out;
        for (const auto& [start, end] : process_anonymous_ranges(pid)) out.push_back({start, end, 0});
        return out;
    }
    void set_frozen(const std::string& cgroup_dir, bool frozen) override {
        ProcFs("").write_text(cgroup_dir + "/cgroup.freeze", frozen ? "1" : "0");
    }
    uint64_t page_size() override { return static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)); }
};

}  // namespace

std::shared_ptr<ReclaimSystem> live_reclaim_system() { return std::make_shared<LiveReclaimSystem>(); }

}  // namespace damond
