// The DAMON sysfs tree with the kernel's semantics, in memory: the heart of
// damon-sysfs-emu, which serves it over FUSE, and usable directly as a
// SysfsTree in tests. It follows the kernel's mm/damon/sysfs*.c and
// Documentation/admin-guide/mm/damon/usage.rst: nr_* files create
// and destroy directories, nr_kdamonds is EBUSY while a kdamond runs, files
// stage values that only "on" and "commit" apply, the state commands, the
// profile's file set (7.2 has pause), exclusive DAMON modules, watermark
// parking and the kernels where a parked kdamond never completes a commit.
// A running kdamond is simulated by damond's own DAMON core over a
// synthetic workload, so it produces plausible regions and stats.
//
// Besides the tree, a directory _emu/ holds the controls tests use:
//   _emu/log              every write: "<path> <value> -> <result>"
//   _emu/fail             "<path suffix> <errno name> [count]" fails writes
//                         (each line adds one; "clear" drops them all)
//   _emu/fail_read        the same for reads (of the tree, not of _emu/)
//   _emu/read_log         every read of the tree: "<path>" (write "" to clear)
//   _emu/hang             "<path suffix>": the next such write never returns
//   _emu/hang_read        "<path suffix>": the next such read never returns
//   _emu/live/<K>         (read only, not listed) what kdamond K keeps inside:
//                         its intervals, then every region as "start end
//                         nr_accesses nr_accesses_bp last_nr_accesses age"
//   _emu/applied_pause/<K> (read only, not listed) Y or N: the pause kdamond K
//                         runs with, as its last on or commit applied it
//   _emu/refuse_commit    "<count>": the kernel refuses that many commits, as
//                         if a value had become invalid (a target gone) by
//                         the time it takes them: 6.15+ say EINVAL and keep
//                         the kdamond as it was; older ones end it, writer told 0
//   _emu/free_mem_rate    what watermarks see, per 1000 (default 500)
//   _emu/module/damon_{stat,reclaim,lru_sort}/parameters/enabled
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "kernel/kernel_version.hpp"
#include "kernel/sysfs_tree.hpp"

namespace damond::emu {

struct Profile {
    std::string name;
    KernelVersion version;
    // False where a kdamond parked by watermarks never serves a commit (6.9..6.16-rc5).
    bool commit_while_parked = true;
};

// "6.1", "6.12", "6.18", "7.2"; throws std::invalid_argument otherwise.
Profile profile_named(const std::string& name);

// What a write did.
enum class WriteOutcome { Done, Failed, Blocks };

struct KdamondRuntime;

class DamonTreeModel {
public:
    DamonTreeModel(Profile profile, const Clock& clock);
    ~DamonTreeModel();

    const Profile& profile() const { return profile_; }

    bool exists(const std::string& path) const;
    bool is_dir(const std::string& path) const;
    bool writable(const std::string& path) const;
    std::vector<std::string> list(const std::string& dir) const;
    // 0, or a negative errno.
    int read(const std::string& path, std::string& out);
    // Blocks: the caller must wait (outside any lock) until write_released()
    // says so, then report `err` (the kernel's answer once unblocked).
    WriteOutcome write(const std::string& path, const std::string& value, int& err);
    // For a write that blocked: true once it may return, with its result.
    bool write_released(const std::string& path, int& err);
    // True once for a read that _emu/hang_read names: it must never return.
    bool take_read_hang(const std::string& path);

private:
    struct Node {
        bool dir = false;
        bool writable = false;
        std::string value;
    };

    void add_file(const std::string& path, const std::string& value, bool writable);
    void add_dir(const std::string& path);
    void remove_tree(const std::string& path);
    void make_level(const std::string& dir, int level);
    void resize_children(const std::string& dir, uint64_t n, int level);
    int write_locked(const std::string& path, const std::string& value, bool& blocks);
    int write_nr(const std::string& path, const std::string& value);
    int state_command(uint32_t kdamond, const std::string& command, bool& blocks);
    void advance(uint32_t kdamond);
    void log(const std::string& path, const std::string& value, int result);
    bool take_fault(const std::string& path, int& err, const char* control = "fail");
    bool take_hang(const std::string& path, const char* control = "hang");
    int read_live(const std::string& kdamond, std::string& out);

    Profile profile_;
    const Clock& clock_;
    mutable std::recursive_mutex mu_;
    std::map<std::string, Node> nodes_;
    std::map<uint32_t, std::unique_ptr<KdamondRuntime>> runtimes_;
    std::map<std::string, int> blocked_;  // path -> result once released
    int next_pid_ = 4000;
};

// The model as a SysfsTree, for tests that need no FUSE mount. A write that
// would block throws SysfsError(EDEADLK) instead.
class ModelTree : public SysfsTree {
public:
    explicit ModelTree(DamonTreeModel& model) : model_(model) {}
    bool exists(const std::string& path) const override { return model_.exists(path); }
    bool is_dir(const std::string& path) const override { return model_.is_dir(path); }
    bool writable(const std::string& path) const override { return model_.writable(path); }
    std::string read(const std::string& path) const override;
    void write(const std::string& path, const std::string& value) override;
    std::vector<std::string> list(const std::string& dir) const override { return model_.list(dir); }

private:
    DamonTreeModel& model_;
};

}  // namespace damond::emu
