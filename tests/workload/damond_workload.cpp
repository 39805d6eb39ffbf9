// A process with a known access pattern, for tests and the demo: it maps a
// hot and a cold anonymous area (and optionally a file), touches every page
// once, prints where they are as one JSON line, then keeps touching only the
// hot area until stdin closes (unless --ignore-stdin), SIGTERM arrives or
// --exit-after-ms passes.
//
// --fg-mib N: a third area, touched with the hot one only while the process
// is "in the foreground": from SIGUSR1 until SIGUSR2 (it starts there), as
// an app whose foreground needs memory its background does not.
//
// --flush-tlb: before each round over the hot area, drop its TLB entries
// (mprotect to read-only and back). DAMON clears a page's accessed bit
// without flushing the TLB, and the CPU only sets that bit on a page walk,
// so a hot page whose translation stays cached looks idle. Under QEMU's
// software emulation the cached translations live long enough that the hot
// area can look idle for seconds; this makes every round visible.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_foreground = 1;

void on_term(int) { g_stop = 1; }
void on_foreground(int) { g_foreground = 1; }
void on_background(int) { g_foreground = 0; }

char* map_anon(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    // No huge pages: the tests reason about 4 KiB pages.
    madvise(p, bytes, MADV_NOHUGEPAGE);
    return static_cast<char*>(p);
}

void touch(char* p, size_t bytes, bool write) {
    volatile char sink = 0;
    for (size_t off = 0; off < bytes; off += 4096) {
        if (write)
            p[off] = static_cast<char>(p[off] + 1);
        else
            sink = static_cast<char>(sink + p[off]);
    }
    (void)sink;
}

void usage() {
    fprintf(stderr,
            "usage: damond-workload [--hot-mib N] [--cold-mib N] [--fg-mib N] [--file PATH --file-mib N] "
            "[--period-ms N] [--exit-after-ms N] [--grow-after-ms N] [--ignore-stdin] [--flush-tlb]\n");
    exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    size_t hot_mib = 8, cold_mib = 8, file_mib = 0, fg_mib = 0;
    long period_ms = 5, exit_after_ms = -1;
    bool watch_stdin = true;
    bool flush_tlb = false;
    long grow_after_ms = -1;
    const char* file = nullptr;
    for (int i = 1; i < argc; ++i) {
        auto next = [&] { return i + 1 < argc ? argv[++i] : (usage(), nullptr); };
        if (!strcmp(argv[i], "--hot-mib"))
            hot_mib = std::strtoul(next(), nullptr, 10);
        else if (!strcmp(argv[i], "--cold-mib"))
            cold_mib = std::strtoul(next(), nullptr, 10);
        else if (!strcmp(argv[i], "--fg-mib"))
            fg_mib = std::strtoul(next(), nullptr, 10);
        else if (!strcmp(argv[i], "--file"))
            file = next();
        else if (!strcmp(argv[i], "--file-mib"))
            file_mib = std::strtoul(next(), nullptr, 10);
        else if (!strcmp(argv[i], "--period-ms"))
            period_ms = std::strtol(next(), nullptr, 10);
        else if (!strcmp(argv[i], "--exit-after-ms"))
            exit_after_ms = std::strtol(next(), nullptr, 10);
        else if (!strcmp(argv[i], "--ignore-stdin"))
            watch_stdin = false;
        else if (!strcmp(argv[i], "--flush-tlb"))
            flush_tlb = true;
        else if (!strcmp(argv[i], "--grow-after-ms"))
            grow_after_ms = std::strtol(next(), nullptr, 10);
        else
            usage();
    }
    signal(SIGTERM, on_term);
    signal(SIGUSR1, on_foreground);
    signal(SIGUSR2, on_background);
    signal(SIGPIPE, SIG_IGN);

    const size_t hot_bytes = hot_mib << 20, cold_bytes = cold_mib << 20, file_bytes = file_mib << 20;
    // One reservation with an inaccessible page between the areas, so they
    // are two mappings: the kernel would merge two adjacent alike ones.
    char* hot = map_anon(hot_bytes + 4096 + cold_bytes);
    char* cold = hot + hot_bytes + 4096;
    if (mprotect(hot + hot_bytes, 4096, PROT_NONE) != 0) {
        perror("mprotect");
        return 1;
    }
    touch(hot, hot_bytes, true);
    touch(cold, cold_bytes, true);
    const size_t fg_bytes = fg_mib << 20;
    char* fg = fg_bytes ? map_anon(fg_bytes) : nullptr;
    if (fg) touch(fg, fg_bytes, true);

    char* mapped = nullptr;
    if (file && file_bytes) {
        // A clean file-backed mapping, read once so it is resident.
        const int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) {
            perror(file);
            return 1;
        }
        std::string page(4096, 'x');
        for (size_t off = 0; off < file_bytes; off += page.size())
            if (pwrite(fd, page.data(), page.size(), static_cast<off_t>(off)) != static_cast<ssize_t>(page.size())) {
                perror("pwrite");
                return 1;
            }
        fsync(fd);
        mapped = static_cast<char*>(mmap(nullptr, file_bytes, PROT_READ, MAP_SHARED, fd, 0));
        close(fd);
        if (mapped == MAP_FAILED) {
            perror("mmap file");
            return 1;
        }
        madvise(mapped, file_bytes, MADV_NOHUGEPAGE);
        touch(mapped, file_bytes, false);
    }

    auto addr = [](const char* p) { return static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(p)); };
    printf("{\"pid\": %d, \"hot\": [%llu, %llu], \"cold\": [%llu, %llu]", getpid(), addr(hot), addr(hot) + hot_bytes,
           addr(cold), addr(cold) + cold_bytes);
    if (mapped) printf(", \"file\": [%llu, %llu]", addr(mapped), addr(mapped) + file_bytes);
    if (fg) printf(", \"fg\": [%llu, %llu]", addr(fg), addr(fg) + fg_bytes);
    printf("}\n");
    fflush(stdout);

    const auto start = std::chrono::steady_clock::now();
    char* grown = nullptr;
    while (!g_stop) {
        if (flush_tlb &&
            (mprotect(hot, hot_bytes, PROT_READ) != 0 || mprotect(hot, hot_bytes, PROT_READ | PROT_WRITE) != 0)) {
            perror("mprotect");
            return 1;
        }
        touch(hot, hot_bytes, true);
        if (fg && g_foreground) {
            if (flush_tlb &&
                (mprotect(fg, fg_bytes, PROT_READ) != 0 || mprotect(fg, fg_bytes, PROT_READ | PROT_WRITE) != 0)) {
                perror("mprotect");
                return 1;
            }
            touch(fg, fg_bytes, true);
        }
        if (!grown && grow_after_ms >= 0 &&
            std::chrono::steady_clock::now() - start > std::chrono::milliseconds(grow_after_ms)) {
            // A new area far from the others, announced on stdout.
            grown = static_cast<char*>(mmap(reinterpret_cast<void*>(0x200000000000ULL), 8 << 20, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
            if (grown == MAP_FAILED) return 1;
            touch(grown, 8 << 20, true);
            printf("{\"grown\": [%llu, %llu]}\n", addr(grown), addr(grown) + (8ULL << 20));
            fflush(stdout);
        }
        pollfd p{watch_stdin ? 0 : -1, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(period_ms)) > 0) {
            char buf[64];
            if (read(0, buf, sizeof buf) <= 0) break;  // stdin closed: the parent is done
        }
        if (exit_after_ms >= 0 && std::chrono::steady_clock::now() - start > std::chrono::milliseconds(exit_after_ms))
            break;
    }
    return 0;
}
