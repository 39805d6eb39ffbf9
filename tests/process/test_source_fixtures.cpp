// Sources the development machines' kernel lacks (page_idle, soft_dirty),
// checked against fixture files standing in for /proc and /sys, and the
// parsing the real sources share.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "sources/page_idle_source.hpp"
#include "sources/proc_maps.hpp"
#include "sources/soft_dirty_source.hpp"
#include "sources/source_factory.hpp"
#include "temp_dir.hpp"

using namespace damond;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t P = 4096;
constexpr uint64_t kBase = 0x10000000;
constexpr uint64_t kPages = 64;
constexpr uint64_t kFrame0 = 5000;

// A fixture root: /proc/<our pid>/{pagemap,clear_refs} and the page_idle bitmap.
struct Fixture {
    damond::testing::TempDir dir;
    fs::path root = dir.path();
    std::string pid = std::to_string(getpid());

    Fixture() {
        fs::create_directories(root / "proc" / pid);
        fs::create_directories(root / "sys/kernel/mm/page_idle");
        std::ofstream(root / "proc" / pid / "clear_refs") << "";
        // pagemap: one 8-byte entry per page up to our range, all present.
        std::ofstream pagemap(root / "proc" / pid / "pagemap", std::ios::binary);
        for (uint64_t page = 0; page < kBase / P + kPages; ++page) {
            const uint64_t entry = page >= kBase / P ? (1ULL << 63) | (kFrame0 + page - kBase / P) : 0;
            pagemap.write(reinterpret_cast<const char*>(&entry), 8);
        }
        std::ofstream bitmap(root / "sys/kernel/mm/page_idle/bitmap", std::ios::binary);
        const std::string zeros((kFrame0 + kPages) / 8 + 64, '\0');
        bitmap.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }

    ProcFs procfs() const { return ProcFs(root.string()); }
    std::string pagemap() const { return (root / "proc" / pid / "pagemap").string(); }
    std::string bitmap() const { return (root / "sys/kernel/mm/page_idle/bitmap").string(); }

    // What the kernel would do when the page at `addr` is accessed.
    void access_clears_idle(uint64_t addr) const {
        const uint64_t frame = kFrame0 + (addr - kBase) / P;
        std::fstream f(bitmap(), std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(frame / 64 * 8));
        uint64_t word = 0;
        f.read(reinterpret_cast<char*>(&word), 8);
        word &= ~(1ULL << (frame % 64));
        f.seekp(static_cast<std::streamoff>(frame / 64 * 8));
        f.write(reinterpret_cast<const char*>(&word), 8);
    }
    void set_soft_dirty(uint64_t addr, bool dirty) const {
        std::fstream f(pagemap(), std::ios::in | std::ios::out | std::ios::binary);
        const auto off = static_cast<std::streamoff>(addr / P * 8);
        f.seekg(off);
        uint64_t e = 0;
        f.read(reinterpret_cast<char*>(&e), 8);
        e = dirty ? e | (1ULL << 55) : e & ~(1ULL << 55);
        f.seekp(off);
        f.write(reinterpret_cast<const char*>(&e), 8);
    }
};

struct CoreOn {
    ManualClock clock;
    NoSystemMetrics metrics;
    DamonCore core;
    CoreOn(std::unique_ptr<AccessSource> source)
        : core(MonitoringAttrs{1000, 20000, 1000000, 4, 16, {}}, {{{kBase, kBase + kPages * P}}}, {}, std::move(source),
               3, clock, metrics) {
        core.start();
    }
    double mean(uint64_t lo, uint64_t hi) const {
        double sum = 0, size = 0;
        for (const Region& r : core.context().targets[0].regions) {
            const uint64_t s = std::max(r.start, lo), e = std::min(r.end, hi);
            if (s < e) sum += double(r.last_nr_accesses) * double(e - s), size += double(e - s);
        }
        return sum / size;
    }
};

std::vector<ProcessTarget> self_target() { return {ProcessTarget{getpid(), {{kBase, kBase + kPages * P}}}}; }

}  // namespace

TEST(PageIdleFixture, AccessedPagesAreTheOnesWhoseIdleBitWasCleared) {
    Fixture fx;
    auto source = std::make_unique<PageIdleSource>(fx.procfs(), self_target());
    CoreOn c(std::move(source));
    const uint64_t hot_end = kBase + kPages / 2 * P;
    for (int i = 0; i < 20 * 8; ++i) {
        c.core.prepare_sample();
        // The "kernel": every sampled page of the first half gets accessed.
        for (const Region& r : c.core.context().targets[0].regions)
            if (r.sampling_addr < hot_end) fx.access_clears_idle(r.sampling_addr);
        c.core.finish_sample();
    }
    EXPECT_GT(c.mean(kBase, hot_end), 19.0);
    EXPECT_EQ(c.mean(hot_end, kBase + kPages * P), 0.0);
}

TEST(SoftDirtyFixture, WrittenPagesCountOthersDoNot) {
    Fixture fx;
    auto source = std::make_unique<SoftDirtySource>(fx.procfs(), self_target());
    EXPECT_FALSE(source->caps().reads);
    CoreOn c(std::move(source));
    const uint64_t hot_end = kBase + kPages / 4 * P;
    for (int i = 0; i < 20 * 8; ++i) {
        c.core.prepare_sample();
        for (uint64_t a = kBase; a < kBase + kPages * P; a += P) fx.set_soft_dirty(a, a < hot_end);
        c.core.finish_sample();
    }
    EXPECT_GT(c.mean(kBase, hot_end), 19.0);
    EXPECT_EQ(c.mean(hot_end, kBase + kPages * P), 0.0);
}

TEST(SourceProbe, PrefersPageIdleThenRefsAndSaysWhy) {
    Fixture fx;
    EXPECT_EQ(probe_process_source(fx.procfs()).name, "page_idle");
    fs::remove(fx.root / "sys/kernel/mm/page_idle/bitmap");
    fs::create_directories(fx.root / "proc/self");
    std::ofstream(fx.root / "proc/self/clear_refs") << "";
    const SourceProbe p = probe_process_source(fx.procfs());
    EXPECT_EQ(p.name, "refs");
    EXPECT_NE(p.reason.find("CONFIG_IDLE_PAGE_TRACKING"), std::string::npos) << p.reason;
    fs::remove_all(fx.root / "proc/self");
    EXPECT_EQ(probe_process_source(fx.procfs()).name, "");
}

TEST(ProcMaps, ParsesSmapsAndSkipsVsyscall) {
    const auto vmas = parse_maps(
        "00400000-00452000 r-xp 00000000 fe:00 123  /usr/bin/app\n"
        "Rss:                 100 kB\n"
        "Referenced:           40 kB\n"
        "7f0000000000-7f0000100000 rw-p 00000000 00:00 0 \n"
        "Referenced:            4 kB\n"
        "Anonymous:          1024 kB\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]\n");
    ASSERT_EQ(vmas.size(), 2u);
    EXPECT_EQ(vmas[0].path, "/usr/bin/app");
    EXPECT_TRUE(vmas[0].file_backed());
    EXPECT_EQ(vmas[0].rss, 100u * 1024);
    EXPECT_EQ(vmas[0].referenced, 40u * 1024);
    EXPECT_FALSE(vmas[1].file_backed());
    EXPECT_EQ(vmas[1].anonymous, 1024u * 1024);
    EXPECT_EQ(find_vma(vmas, 0x7f0000000800), &vmas[1]);
    EXPECT_EQ(find_vma(vmas, 0x500000), nullptr);
}

TEST(ProcMaps, ThreeRegionsCutAtTheTwoBiggestGaps) {
    std::vector<Vma> vmas(5);
    const uint64_t spans[5][2] = {
        {0x1000, 0x3000}, {0x4000, 0x5000}, {0x100000, 0x101000}, {0x102000, 0x103000}, {0x900000, 0x901000}};
    for (int i = 0; i < 5; ++i) vmas[i].start = spans[i][0], vmas[i].end = spans[i][1];
    const auto three = three_regions(vmas);
    ASSERT_TRUE(three);
    EXPECT_EQ((*three)[0], (AddrRange{0x1000, 0x5000}));
    EXPECT_EQ((*three)[1], (AddrRange{0x100000, 0x103000}));
    EXPECT_EQ((*three)[2], (AddrRange{0x900000, 0x901000}));
    vmas.resize(2);
    EXPECT_FALSE(three_regions(vmas));  // one gap only
}
