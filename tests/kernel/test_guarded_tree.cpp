// The guard in front of every write of the kernel backend, on the emulated tree.
#include <gtest/gtest.h>

#include "damon_tree_model.hpp"
#include "kernel/guarded_tree.hpp"

using namespace damond;
using namespace damond::emu;

namespace {

int errno_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const SysfsError& e) {
        return e.code().value();
    }
    return 0;
}

}  // namespace

TEST(GuardedTree, WritesOnlyUnderOwnedKdamonds) {
    ManualClock clock;
    DamonTreeModel model(profile_named("6.18"), clock);
    ModelTree raw(model);
    raw.write("kdamonds/nr_kdamonds", "2");
    GuardedTree t(raw);
    t.own(1);
    EXPECT_EQ(errno_of([&] { t.write("kdamonds/1/contexts/nr_contexts", "1"); }), 0);
    EXPECT_EQ(errno_of([&] { t.write("kdamonds/0/contexts/nr_contexts", "1"); }), EPERM);
    EXPECT_EQ(errno_of([&] { t.write("kdamonds/0/state", "off"); }), EPERM);
    EXPECT_EQ(errno_of([&] { t.write("kdamonds/nr_kdamonds", "3"); }), EPERM);
    EXPECT_EQ(errno_of([&] { t.write("kdamonds/10/state", "on"); }), EPERM);
    EXPECT_EQ(errno_of([&] { t.write("_emu/hang", "x"); }), EPERM);
    const std::string log = raw.read("_emu/log");
    EXPECT_EQ(log.find("kdamonds/0/"), std::string::npos) << log;
}

TEST(GuardedTree, GrowsThePoolOnlyWhenEveryKdamondIsOursAndOff) {
    ManualClock clock;
    DamonTreeModel model(profile_named("7.2"), clock);
    ModelTree raw(model);
    GuardedTree t(raw);
    t.grow_pool(0, 2);  // nothing there yet
    EXPECT_EQ(raw.read("kdamonds/nr_kdamonds"), "2");
    EXPECT_EQ(t.owned(), (std::set<uint32_t>{0, 1}));

    // A foreign kdamond, even stopped, blocks a rewrite.
    DamonTreeModel other(profile_named("7.2"), clock);
    ModelTree raw2(other);
    raw2.write("kdamonds/nr_kdamonds", "1");
    GuardedTree t2(raw2);
    EXPECT_EQ(errno_of([&] { t2.grow_pool(1, 1); }), EBUSY);
    EXPECT_EQ(raw2.read("kdamonds/nr_kdamonds"), "1");

    // Ours but running: no rewrite either.
    t.write("kdamonds/0/contexts/nr_contexts", "1");
    t.write("kdamonds/0/contexts/0/operations", "paddr");
    t.write("kdamonds/0/contexts/0/targets/nr_targets", "1");
    t.write("kdamonds/0/state", "on");
    EXPECT_EQ(errno_of([&] { t.grow_pool(2, 1); }), EBUSY);
    EXPECT_EQ(errno_of([&] { t.grow_pool(0, 1); }), EBUSY);
}
