// An app's reclaim with its two contexts on kdamonds of the emulated kernel
// (7.2: paused with the pause file, ages kept): what is paged out is what
// both contexts saw idle, never what the foreground context saw used, and a
// return in the middle of a reclaim waits for it to stop.
//
// The emulated kdamond finds the first eighth of its range hot and the next
// eighth warm. The foreground context watches 64..128 MiB (hot 64..72, warm
// 72..80); the background one 48..112 MiB (hot 48..56, warm 56..64), so it
// sees the foreground's hot and warm parts idle. What both saw idle is
// 80..112 MiB.
#include <unistd.h>

#include <gtest/gtest.h>

#include "damon_tree_model.hpp"
#include "fake_reclaim_system.hpp"
#include "kernel/guarded_tree.hpp"
#include "kernel/kernel_monitor.hpp"
#include "loop_queue.hpp"
#include "manager/app_registry.hpp"
#include "manager_forms.hpp"
#include "spec/spec_json.hpp"

using namespace damond;
using namespace damond::emu;
using namespace damond::testing;

namespace {

constexpr uint64_t kMiB = 1 << 20;

const char* kConfig = R"({
  "profiles": {
    "fine":   {"ops": "vaddr", "intervals": {"sample_us": 5000, "aggr_us": 100000},
               "nr_regions": {"min": 32, "max": 200}},
    "coarse": {"ops": "vaddr", "intervals": {"sample_us": 5000, "aggr_us": 100000},
               "nr_regions": {"min": 32, "max": 200}}
  },
  "apps": {"default": {"foreground": "fine", "background": "coarse"},
           "reclaim": {"enabled": true, "after_ms": 10000, "min_idle_ms": 3000, "min_aggregations": 10}}
})";

struct EmulatedApp {
    ManualClock clock;
    DamonTreeModel model{profile_named("7.2"), clock};
    ModelTree raw{model};
    GuardedTree tree{raw};
    KernelProbe probe;
    uint32_t next_kdamond = 0;
    LoopQueue loop;
    std::shared_ptr<FakeReclaimSystem> system = std::make_shared<FakeReclaimSystem>();
    std::vector<std::function<void()>> timers;
    const uint32_t pid = static_cast<uint32_t>(::getpid());
    Manager manager{test_parts(
        [this](const std::string& name, const ContextSpec& spec) -> std::unique_ptr<Monitor> {
            ContextSpec s = spec;
            const bool fg = name.find("@foreground") != std::string::npos;
            s.targets.at(0).regions = {fg ? AddrRange{64 * kMiB, 128 * kMiB} : AddrRange{48 * kMiB, 112 * kMiB}};
            return std::make_unique<KernelMonitor>(s, tree, next_kdamond++, probe);
        },
        loop.poster())};
    std::unique_ptr<AppRegistry> apps;

    EmulatedApp() {
        tree.grow_pool(0, 2);
        raw.write("kdamonds/0/contexts/nr_contexts", "1");
        raw.write("kdamonds/0/contexts/0/schemes/nr_schemes", "1");
        raw.write("kdamonds/0/contexts/0/targets/nr_targets", "1");
        probe = probe_kernel(tree, FsSysfsTree("/nonexistent"), model.profile().version.to_string(), {0, 1});
        AppRegistry::Parts p = test_app_parts(config_from_json_text(kConfig).apps, [this] { return clock.now_us(); });
        p.post = loop.poster();
        p.schedule = [this](uint64_t, std::function<void()> fn) { timers.push_back(std::move(fn)); };
        p.reclaim_system = system;
        apps = std::make_unique<AppRegistry>(manager, std::move(p));
    }
    ~EmulatedApp() {
        {
            std::lock_guard<std::mutex> lock(system->mu);
            system->hold = false;
        }
        system->cv.notify_all();
        // What the registry's switches hand back arrives before it goes.
        for (int i = 0; i < 100; ++i) loop.turn_or_wait();
        apps.reset();
        ManagerForms(manager, [&] { loop.turn_or_wait(); }).stop_all();
    }
    AppForms forms() {
        return AppForms(*apps, [this] { loop.turn_or_wait(); });
    }
    // Foreground 5 s, then background: after 5 s there, its reclaim's time.
    void train_and_leave() {
        forms().register_app("a", pid);
        forms().set_app_state("a", AppState::Foreground);
        for (int i = 0; i < 50; ++i) clock.advance(100000);
        forms().set_app_state("a", AppState::Background);
        // The foreground context's pause follows the answer.
        ASSERT_TRUE(loop.until([&] { return manager.state("a@foreground") == MonitorState::Paused; }));
        for (int i = 0; i < 50; ++i) clock.advance(100000);
        // The reclaim's, and the paused context's settling into its depth.
        ASSERT_FALSE(timers.empty());
        auto now = std::move(timers);
        timers.clear();
        for (auto& fn : now) fn();
    }
    std::string outcome() {
        const AppReclaimer::Figures* f = apps->reclaim_figures("a");
        return f ? f->last_outcome : "";
    }
};

bool overlaps(const ReclaimRange& r, uint64_t start, uint64_t end) { return r.start < end && start < r.end; }

}  // namespace

TEST(AppReclaimEmulated, PagesOutOnlyWhatBothContextsSawIdle) {
    EmulatedApp e;
    e.train_and_leave();
    ASSERT_TRUE(e.loop.until([&] { return e.outcome().rfind("paged out", 0) == 0; })) << e.outcome();
    // The background context did see the foreground's hot part idle long
    // enough: only the foreground context keeps it in.
    const MonitorSnapshot bg = ManagerForms(e.manager, [&] { e.loop.turn_or_wait(); }).snapshot("a@background");
    bool saw_it_idle = false;
    for (const SnapshotRegion& r : bg.targets.at(0))
        if (r.start < 72 * kMiB && 64 * kMiB < r.end && r.last_nr_accesses == 0 && r.age * bg.aggr_us >= 3000000)
            saw_it_idle = true;
    EXPECT_TRUE(saw_it_idle);
    uint64_t bytes = 0;
    std::lock_guard<std::mutex> lock(e.system->mu);
    for (const auto& call : e.system->calls) {
        EXPECT_EQ(call.first, e.pid);
        for (const ReclaimRange& r : call.second) {
            EXPECT_FALSE(overlaps(r, 48 * kMiB, 80 * kMiB)) << std::hex << r.start << "-" << r.end;
            EXPECT_TRUE(r.start >= 80 * kMiB && r.end <= 112 * kMiB) << std::hex << r.start << "-" << r.end;
            bytes += r.end - r.start;
        }
    }
    // Region edges move with DAMON's splits and merges; most of it is found.
    EXPECT_GE(bytes, 16 * kMiB);
}

// The switch back waits for the chunk under way; nothing is paged out after
// it, and the foreground context runs again only then.
TEST(AppReclaimEmulated, AReturnInTheMiddleWaitsForItToStop) {
    EmulatedApp e;
    {
        std::lock_guard<std::mutex> lock(e.system->mu);
        e.system->hold = true;
    }
    e.train_and_leave();
    ASSERT_TRUE(e.loop.until([&] {
        std::lock_guard<std::mutex> lock(e.system->mu);
        return e.system->waiting == 1;
    }));
    bool done = false;
    e.apps->set_app_state("a", AppState::Foreground, 0, [&](std::exception_ptr ex, bool) {
        EXPECT_FALSE(ex);
        done = true;
    });
    for (int i = 0; i < 50; ++i) e.loop.turn_or_wait();
    EXPECT_FALSE(done);
    EXPECT_EQ(e.manager.state("a@foreground"), MonitorState::Paused);
    {
        std::lock_guard<std::mutex> lock(e.system->mu);
        e.system->hold = false;
    }
    e.system->cv.notify_all();
    ASSERT_TRUE(e.loop.until([&] { return done; }));
    EXPECT_EQ(e.manager.state("a@foreground"), MonitorState::Running);
    std::lock_guard<std::mutex> lock(e.system->mu);
    EXPECT_EQ(e.system->calls.size(), 1u);
}
