// damond's own kdamonds: allocated at start-up when the kernel's tree
// allows it, or taken back from the record of an earlier run; handed out
// one per kernel context. The record, <state_dir>/kdamonds.json, says which
// kdamonds are damond's and which context runs on which, with the pid it
// had, so that a restarted damond adopts them instead of turning them off:
//   {"owned": [1, 2], "assigned": {"kdemo": {"kdamond": 1, "pid": 4242}}}
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/guarded_tree.hpp"
#include "kernel/kernel_probe.hpp"

namespace damond {

class KdamondPool {
public:
    struct Assignment {
        uint32_t kdamond = 0;
        int pid = -1;  // as last seen running; 0 while being turned on
    };

    // Grows nr_kdamonds by `size` (GuardedTree::grow_pool's rules) and records
    // the indices. Throws SysfsError or std::runtime_error.
    KdamondPool(GuardedTree& tree, uint32_t size, const std::string& state_dir);

    // The pool an earlier run recorded, nothing written; nullopt with `why`
    // when there is no usable record, or one of its kdamonds is gone or runs
    // with another pid than recorded (then it is not known to be damond's).
    static std::optional<KdamondPool> recorded(const SysfsTree& tree, const std::string& state_dir, std::string& why);

    // For context `name`: the kdamond it ran on before a restart if it is
    // free, else a free one no other context's record claims; nullopt when
    // none is left.
    std::optional<uint32_t> acquire(const std::string& name);
    // The pid recorded for `name` on `kdamond`, -1 if none.
    int recorded_pid(const std::string& name, uint32_t kdamond) const;
    // Records that `name` is about to turn `kdamond` on (pid 0), before it
    // does: a crash in between leaves a kdamond the next run knows is its own.
    void claim(const std::string& name, uint32_t kdamond);
    // Records that `name` runs on `kdamond` with `pid`.
    void running(const std::string& name, uint32_t kdamond, int pid);
    // The kdamond is free again; unless `detached` (left running for the
    // next damond), its context's record goes too.
    void release(uint32_t kdamond, bool detached = false);
    // Makes the recorded kdamonds writable through `tree`: they were
    // checked by recorded().
    void own_in(GuardedTree& tree) const;
    // After a restart: the kdamonds of contexts that did not come back are
    // damond's and running for nothing; their records are forgotten and the
    // running ones turned off. Returns what was done, a line each.
    std::vector<std::string> turn_off_unclaimed(GuardedTree& tree);

    const std::set<uint32_t>& all() const { return all_; }
    size_t in_use() const { return all_.size() - free_.size(); }

private:
    KdamondPool() = default;
    void save() const;

    std::string path_;
    std::set<uint32_t> all_;
    std::set<uint32_t> free_;
    std::map<std::string, Assignment> assigned_;
    std::set<std::string> claimed_;
};

}  // namespace damond
