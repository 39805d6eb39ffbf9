// An app's reclaim: when it runs, what it pages out, what stops it.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <system_error>

#include <gtest/gtest.h>

#include "fake_reclaim_system.hpp"
#include "loop_queue.hpp"
#include "manager/app_reclaimer.hpp"
#include "manager_forms.hpp"
#include "regions_snapshot.hpp"
#include "sources/proc_fs.hpp"

using namespace damond;
using namespace damond::testing;

namespace {

constexpr uint64_t kMiB = 1 << 20;

// A monitor that shows what the test gives it.
class ShownMonitor : public Monitor {
public:
    explicit ShownMonitor(MonitorSnapshot shown) : shown_(std::move(shown)) {}
    Backend backend() const override { return Backend::InProcess; }
    std::string access_source() const override { return "fake"; }
    std::string access_source_reason() const override { return "a test's"; }
    void start() override { state_ = MonitorState::Running; }
    void pause() override { state_ = MonitorState::Paused; }
    void resume() override { state_ = MonitorState::Running; }
    void commit(const ContextSpec&) override {}
    void stop() override { state_ = MonitorState::Stopped; }
    MonitorSnapshot snapshot() const override { return shown_; }
    MonitorStats stats() const override { return {}; }
    ContextFigures figures() const override { return {}; }
    MonitorState state() const override { return state_; }
    std::string error() const override { return ""; }
    void set_event_handler(std::function<void()>) override {}

private:
    MonitorSnapshot shown_;
    MonitorState state_ = MonitorState::Stopped;
};

struct Rig {
    LoopQueue loop;
    std::vector<std::function<void()>> timers;
    std::shared_ptr<FakeReclaimSystem> system = std::make_shared<FakeReclaimSystem>();
    const uint32_t pid = static_cast<uint32_t>(::getpid());
    Manager manager{test_parts(
        [](const std::string& name, const ContextSpec&) -> std::unique_ptr<Monitor> {
            // The foreground one saw 0-16 MiB hot; the background one 16-24.
            if (name == "a@foreground")
                return std::make_unique<ShownMonitor>(regions_snapshot({{0, 16, 5, 3}, {16, 64, 0, 200}}));
            return std::make_unique<ShownMonitor>(
                regions_snapshot({{0, 16, 0, 300}, {16, 24, 3, 40}, {24, 64, 0, 120}}));
        },
        loop.poster())};
    std::unique_ptr<AppReclaimer> reclaimer;

    explicit Rig(AppReclaimConfig config = {}) {
        ManagerForms forms(manager, [&] { loop.turn_or_wait(); });
        const std::string spec = R"({"ops": "vaddr", "targets": [{"pid_target": )" + std::to_string(pid) + "}]}";
        forms.create_context("a@foreground", spec);
        forms.create_context("a@background", spec);
        AppReclaimer::Parts p;
        p.manager = &manager;
        p.now_us = [] { return uint64_t{0}; };
        p.post = loop.poster();
        p.schedule = [this](uint64_t, std::function<void()> fn) { timers.push_back(std::move(fn)); };
        p.system = system;
        p.changed = [](const std::string&) {};
        // Fast (in one chunk), unless the test asks for a rate.
        if (config.bytes_per_s == AppReclaimConfig{}.bytes_per_s) config.bytes_per_s = 1ULL << 30;
        reclaimer = std::make_unique<AppReclaimer>(std::move(p), config);
    }
    ~Rig() {
        {
            std::lock_guard<std::mutex> lock(system->mu);
            system->hold = false;
        }
        system->cv.notify_all();
        reclaimer.reset();
        ManagerForms(manager, [&] { loop.turn_or_wait(); }).stop_all();
    }
    void fire_timers() {
        auto now = std::move(timers);
        timers.clear();
        for (auto& fn : now) fn();
    }
    std::string outcome() {
        const AppReclaimer::Figures* f = reclaimer->figures("a");
        return f ? f->last_outcome : "";
    }
};

}  // namespace

// After its delay, what both contexts saw idle (16-64 MiB less the
// background's hot 16-24) is paged out from the app's process, and said.
TEST(AppReclaimer, PagesOutWhatBothContextsSawIdle) {
    Rig rig;
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");
    ASSERT_EQ(rig.timers.size(), 1u);
    EXPECT_EQ(rig.system->paged(), 0u);  // not before its time
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] { return rig.outcome().find("paged out") == 0; })) << rig.outcome();
    EXPECT_EQ(rig.system->paged(), 40 * kMiB);
    for (const auto& c : rig.system->calls) {
        EXPECT_EQ(c.first, rig.pid);
        for (const ReclaimRange& r : c.second) EXPECT_GE(r.start, 24 * kMiB);
    }
    const AppReclaimer::Figures* f = rig.reclaimer->figures("a");
    EXPECT_EQ(f->last_bytes, 40 * kMiB);
    EXPECT_EQ(f->total_bytes, 40 * kMiB);
    EXPECT_EQ(f->reclaims, 1u);
}

// Without swap, or with too little of it free, nothing is paged out, and
// the app's figures say why.
TEST(AppReclaimer, NothingWithoutSwapOrUnderItsHeadroom) {
    Rig rig;
    rig.system->swap_ = {0, 0};
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");
    rig.fire_timers();
    EXPECT_EQ(rig.outcome(), "nothing paged out: there is no swap");
    rig.system->swap_ = {100 * kMiB, 10 * kMiB};
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");
    rig.fire_timers();
    EXPECT_EQ(rig.outcome(), "nothing paged out: 10% of swap is free, under apps.reclaim.min_free_swap_percent (20%)");
    for (int i = 0; i < 20; ++i) rig.loop.turn_or_wait();
    EXPECT_EQ(rig.system->paged(), 0u);
}

// A switch back to the foreground in the middle of a reclaim waits for the
// chunk under way, and nothing is paged out after it goes on.
TEST(AppReclaimer, AReturnStopsItAndGoesOnOnlyOnceItStopped) {
    AppReclaimConfig config;
    config.bytes_per_s = 10 * kMiB;  // chunks of 1 MiB
    Rig rig(config);
    {
        std::lock_guard<std::mutex> lock(rig.system->mu);
        rig.system->hold = true;
    }
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] {
        std::lock_guard<std::mutex> lock(rig.system->mu);
        return rig.system->waiting == 1;
    }));
    bool went = false;
    rig.reclaimer->before_foreground("a", [&] { went = true; });
    for (int i = 0; i < 20; ++i) rig.loop.turn_or_wait();
    EXPECT_FALSE(went);  // a chunk is still being paged out
    {
        std::lock_guard<std::mutex> lock(rig.system->mu);
        rig.system->hold = false;
    }
    rig.system->cv.notify_all();
    ASSERT_TRUE(rig.loop.until([&] { return went; }));
    std::lock_guard<std::mutex> lock(rig.system->mu);
    EXPECT_EQ(rig.system->calls.size(), 1u);  // only the chunk under way, of 40
    EXPECT_EQ(rig.reclaimer->figures("a")->last_bytes, 1 * kMiB);
    EXPECT_NE(rig.outcome().find("stopped by its return to the foreground"), std::string::npos) << rig.outcome();
}

// Nothing idle long enough yet (a background context that started over when
// the app left): one more look once it can have seen min_idle_ms, not more;
// a return before it drops it.
TEST(AppReclaimer, NothingIdleYetLooksOnceMore) {
    AppReclaimConfig config;
    config.min_idle_ms = 1000000;  // longer than anything the contexts saw
    Rig rig(config);
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] { return rig.outcome().find("nothing paged out") == 0; })) << rig.outcome();
    EXPECT_NE(rig.outcome().find("it looks once more 1010 s after it left"), std::string::npos) << rig.outcome();
    ASSERT_EQ(rig.timers.size(), 1u);
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] { return rig.reclaimer->figures("a")->reclaims == 2; }));
    EXPECT_EQ(rig.outcome().find("looks once more"), std::string::npos) << rig.outcome();
    EXPECT_TRUE(rig.timers.empty());
    EXPECT_EQ(rig.system->paged(), 0u);
    // A new background looks again; a return drops its second look.
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] { return rig.reclaimer->figures("a")->reclaims == 3; }));
    ASSERT_EQ(rig.timers.size(), 1u);
    bool went = false;
    rig.reclaimer->before_foreground("a", [&] { went = true; });
    EXPECT_TRUE(went);
    rig.fire_timers();
    for (int i = 0; i < 20; ++i) rig.loop.turn_or_wait();
    EXPECT_EQ(rig.reclaimer->figures("a")->reclaims, 3u);
}

// A return before the reclaim's time drops it.
TEST(AppReclaimer, AReturnBeforeItsTimeDropsIt) {
    Rig rig;
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");
    bool went = false;
    rig.reclaimer->before_foreground("a", [&] { went = true; });
    EXPECT_TRUE(went);
    rig.fire_timers();
    for (int i = 0; i < 20; ++i) rig.loop.turn_or_wait();
    EXPECT_EQ(rig.system->paged(), 0u);
}

// What paging out cost on return: the major faults over the window after it.
TEST(AppReclaimer, CountsTheMajorFaultsAfterAReturn) {
    Rig rig;
    rig.system->faults = 100;
    rig.reclaimer->returned("a", {rig.pid});
    rig.system->faults = 150;
    rig.fire_timers();
    const AppReclaimer::Figures* f = rig.reclaimer->figures("a");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->refault_bytes, 50u * 4096);
    EXPECT_EQ(f->returns_counted, 1u);
}

// Anonymous memory only: a file mapped over 32-40 MiB keeps its pages.
TEST(AppReclaimer, KeepsToAnonymousMemory) {
    Rig rig;
    rig.system->anon = {{0, 32 * kMiB, 0}, {40 * kMiB, 64 * kMiB, 0}};
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] { return rig.outcome().find("paged out") == 0; })) << rig.outcome();
    EXPECT_EQ(rig.system->paged(), 32 * kMiB);
    for (const auto& c : rig.system->calls)
        for (const ReclaimRange& r : c.second) EXPECT_TRUE(r.end <= 32 * kMiB || r.start >= 40 * kMiB);
}

// The live system's view of a process's anonymous memory: an anonymous
// mapping of ours is in it, our own code (a file's) is not.
TEST(AppReclaimer, TheLiveSystemFindsAProcesssAnonymousMemory) {
    const size_t size = 4 * kMiB;
    void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(block, MAP_FAILED);
    const std::vector<ReclaimRange> anon = live_reclaim_system()->anonymous(static_cast<uint32_t>(::getpid()));
    auto inside = [&](uint64_t addr) {
        for (const ReclaimRange& r : anon)
            if (addr >= r.start && addr < r.end) return true;
        return false;
    };
    EXPECT_TRUE(inside(reinterpret_cast<uint64_t>(block)));
    EXPECT_FALSE(inside(reinterpret_cast<uint64_t>(&live_reclaim_system)));
    ::munmap(block, size);
}

// A pid is paged out only while it is the process the app registered: by
// its start time, checked once the pidfd is open.
TEST(AppReclaimer, TheLiveSystemPagesOutOnlyTheProcessThatStartedThen) {
    const size_t size = 1 * kMiB;
    void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(block, MAP_FAILED);
    std::memset(block, 1, size);
    const uint32_t pid = static_cast<uint32_t>(::getpid());
    const std::optional<uint64_t> started = process_start_time(pid);
    ASSERT_TRUE(started);
    const uint64_t start = reinterpret_cast<uint64_t>(block);
    const std::vector<ReclaimRange> range{{start, start + size, 0}};
    try {
        live_reclaim_system()->page_out(pid, *started + 1, range);
        ADD_FAILURE() << "another process's start time was paged out";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ESRCH);
        EXPECT_NE(std::string(e.what()).find("is no longer the app's process"), std::string::npos) << e.what();
    }
    try {
        EXPECT_EQ(live_reclaim_system()->page_out(pid, *started, range), size);
    } catch (const std::system_error& e) {
        // process_madvise needs CAP_SYS_NICE: without it, only the check above.
        EXPECT_EQ(e.code().value(), EPERM) << e.what();
    }
    ::munmap(block, size);
}

// The reclaim hands each process's start time, as registered, to the system.
TEST(AppReclaimer, HandsEachProcesssStartTimeToThePageOut) {
    Rig rig;
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background", "", {{rig.pid, 4242}});
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] { return rig.outcome().find("paged out") == 0; })) << rig.outcome();
    std::lock_guard<std::mutex> lock(rig.system->mu);
    ASSERT_FALSE(rig.system->start_times.empty());
    for (uint64_t t : rig.system->start_times) EXPECT_EQ(t, 4242u);
}

// With apps.reclaim.freeze: the app's own cgroup is frozen once its reclaim
// ends, and thawed before its switch back goes on; an app without a cgroup
// of its own is never frozen, and says so.
TEST(AppReclaimer, FreezesAfterTheReclaimAndThawsBeforeTheReturn) {
    AppReclaimConfig config;
    config.freeze = true;
    Rig rig(config);
    rig.reclaimer->left_foreground("a", "a@foreground", "a@background", "/sys/fs/cgroup/apps/a");
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] { return rig.reclaimer->figures("a") && rig.reclaimer->figures("a")->frozen; }));
    EXPECT_EQ(rig.system->paged(), 40 * kMiB);  // paged out first
    EXPECT_NE(rig.outcome().find("; /sys/fs/cgroup/apps/a frozen"), std::string::npos) << rig.outcome();
    bool thawed_first = false;
    rig.reclaimer->before_foreground("a", [&] {
        std::lock_guard<std::mutex> lock(rig.system->mu);
        thawed_first = !rig.system->freezes.empty() && !rig.system->freezes.back().second;
    });
    EXPECT_TRUE(thawed_first);
    EXPECT_EQ(rig.system->freezes, (std::vector<std::pair<std::string, bool>>{{"/sys/fs/cgroup/apps/a", true},
                                                                              {"/sys/fs/cgroup/apps/a", false}}));
    EXPECT_FALSE(rig.reclaimer->figures("a")->frozen);

    rig.reclaimer->left_foreground("a", "a@foreground", "a@background");  // no cgroup of its own
    rig.fire_timers();
    ASSERT_TRUE(rig.loop.until([&] { return rig.reclaimer->figures("a")->reclaims == 2; }));
    EXPECT_NE(rig.outcome().find("not frozen: it has no cgroup of its own"), std::string::npos) << rig.outcome();
    EXPECT_EQ(rig.system->freezes.size(), 2u);
}
