// The safety rule in code: damond writes only under kdamonds it owns. Every
// write of the kernel backend goes through this tree, which refuses
// anything else before it reaches the real one:
//   - kdamonds/<K>/... only for K in the owned set;
//   - kdamonds/nr_kdamonds only when every existing kdamond is damond's and
//     off (a rewrite destroys every kdamond directory), and only through
//     grow_pool();
//   - nothing else.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "kernel/sysfs_tree.hpp"

namespace damond {

class GuardedTree : public SysfsTree {
public:
    explicit GuardedTree(SysfsTree& inner) : inner_(inner) {}

    void own(uint32_t kdamond) { owned_.insert(kdamond); }
    const std::set<uint32_t>& owned() const { return owned_; }

    // Makes kdamonds [first, first + n) damond's by setting nr_kdamonds to
    // first + n: only when every existing kdamond is damond's and off.
    // Throws SysfsError (EBUSY naming the kdamond in the way, EPERM otherwise).
    void grow_pool(uint32_t first, uint32_t n);

    bool exists(const std::string& path) const override { return inner_.exists(path); }
    bool is_dir(const std::string& path) const override { return inner_.is_dir(path); }
    bool writable(const std::string& path) const override { return inner_.writable(path); }
    std::string read(const std::string& path) const override { return inner_.read(path); }
    std::vector<std::string> list(const std::string& dir) const override { return inner_.list(dir); }
    // Throws SysfsError(EPERM) for any path outside an owned kdamond.
    void write(const std::string& path, const std::string& value) override;

private:
    SysfsTree& inner_;
    std::set<uint32_t> owned_;
};

}  // namespace damond
