#include "kernel/guarded_tree.hpp"

#include "kernel/kdamond_state.hpp"

#include <cerrno>

namespace damond {

void GuardedTree::grow_pool(uint32_t first, uint32_t n) {
    for (const std::string& k : inner_.list("kdamonds")) {
        if (k.empty() || !isdigit(static_cast<unsigned char>(k[0]))) continue;
        // A rewrite destroys every kdamond directory: a foreign one, even
        // stopped, would lose what its owner staged there.
        if (!owned_.count(static_cast<uint32_t>(std::stoul(k))))
            throw SysfsError(EBUSY, "kdamonds/" + k,
                             "kdamond " + k + " exists and is not damond's; refusing to rewrite nr_kdamonds:");
        std::string state;
        try {
            state = inner_.read("kdamonds/" + k + "/state");
        } catch (const SysfsError&) {
            state = "?";  // EBUSY and the like: cannot prove it is off
        }
        if (state != to_string(KdamondCommand::Off))
            throw SysfsError(EBUSY, "kdamonds/" + k + "/state",
                             "kdamond " + k + " is " + state + "; refusing to rewrite nr_kdamonds:");
    }
    const std::string current = inner_.read("kdamonds/nr_kdamonds");
    if (current != std::to_string(first))
        throw SysfsError(
            EPERM, "kdamonds/nr_kdamonds",
            "the pool must start after the " + current + " existing kdamonds, not at " + std::to_string(first) + ":");
    inner_.write("kdamonds/nr_kdamonds", std::to_string(first + n));
    for (uint32_t k = first; k < first + n; ++k) owned_.insert(k);
}

void GuardedTree::write(const std::string& path, const std::string& value) {
    const std::string prefix = "kdamonds/";
    if (path.rfind(prefix, 0) == 0) {
        const std::string rest = path.substr(prefix.size());
        const auto slash = rest.find('/');
        const std::string index = rest.substr(0, slash);
        if (slash != std::string::npos && !index.empty() &&
            index.find_first_not_of("0123456789") == std::string::npos &&
            owned_.count(static_cast<uint32_t>(std::stoul(index)))) {
            inner_.write(path, value);
            return;
        }
    }
    throw SysfsError(EPERM, path, "refusing to write '" + value + "' outside damond's own kdamonds:");
}

}  // namespace damond
