// damon-sysfs-emu: serves the emulated DAMON sysfs tree over FUSE, so damond
// can be tested through its production I/O path, and so the tree outlives a
// damond process (restart and re-adoption tests).
//
//   damon-sysfs-emu --profile 6.1|6.12|6.18|7.2 MOUNTPOINT
//
// Point damond at it with --sysfs-root MOUNTPOINT --modules-root
// MOUNTPOINT/_emu/module --kernel-release <profile>. Runs in the foreground
// until unmounted or sent SIGTERM/SIGINT.
#define FUSE_USE_VERSION 35

#include <fuse3/fuse.h>
#include <fuse3/fuse_lowlevel.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "damon_tree_model.hpp"

using namespace damond;
using namespace damond::emu;

namespace {

std::unique_ptr<MonotonicClock> g_clock;
std::unique_ptr<DamonTreeModel> g_model;

std::string rel(const char* path) { return path[0] == '/' ? std::string(path + 1) : std::string(path); }

// _emu/live/<K>: not listed, but readable by name.
// _emu/applied_pause/<K> too.
bool is_live(const std::string& p) { return p.rfind("_emu/live/", 0) == 0 || p.rfind("_emu/applied_pause/", 0) == 0; }

int emu_getattr(const char* path, struct stat* st, fuse_file_info*) {
    std::memset(st, 0, sizeof *st);
    const std::string p = rel(path);
    if (p == "_emu/live" || p == "_emu/applied_pause") {  // the way to them
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        return 0;
    }
    if (is_live(p)) {
        st->st_mode = S_IFREG | 0400;
        st->st_nlink = 1;
        st->st_size = 4096;
        return 0;
    }
    if (!g_model->exists(p)) return -ENOENT;
    if (g_model->is_dir(p)) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return 0;
    }
    // Like sysfs: 0600 or 0400, and a nominal page size (reads use direct I/O).
    st->st_mode = S_IFREG | (g_model->writable(p) ? 0600 : 0400);
    st->st_nlink = 1;
    st->st_size = 4096;
    return 0;
}

int emu_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*, fuse_readdir_flags) {
    const std::string p = rel(path);
    if (!g_model->is_dir(p)) return -ENOTDIR;
    fill(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    fill(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    for (const std::string& name : g_model->list(p))
        fill(buf, name.c_str(), nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    return 0;
}

int emu_open(const char* path, fuse_file_info* fi) {
    const std::string p = rel(path);
    if (is_live(p)) {
        if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EACCES;
        fi->direct_io = 1;
        return 0;
    }
    if (!g_model->exists(p)) return -ENOENT;
    if (g_model->is_dir(p)) return -EISDIR;
    if ((fi->flags & O_ACCMODE) != O_RDONLY && !g_model->writable(p)) return -EACCES;
    // libfuse passes O_TRUNC here (atomic_o_trunc) rather than calling
    // truncate: a control under _emu/ opened so is cleared.
    if ((fi->flags & O_TRUNC) && p.rfind("_emu/", 0) == 0) {
        int err = 0;
        if (g_model->write(p, "", err) == WriteOutcome::Failed) return err;
    }
    fi->direct_io = 1;  // every read comes here: values change underneath
    return 0;
}

int emu_read(const char* path, char* buf, size_t size, off_t offset, fuse_file_info*) {
    if (g_model->take_read_hang(rel(path))) {
        // A read stuck behind the kernel's lock, until unmounted.
        fuse_session* session = fuse_get_session(fuse_get_context()->fuse);
        while (!fuse_session_exited(session)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return -ENOTCONN;
    }
    std::string value;
    if (const int err = g_model->read(rel(path), value); err) return err;
    value += "\n";
    if (static_cast<size_t>(offset) >= value.size()) return 0;
    const size_t n = std::min(size, value.size() - static_cast<size_t>(offset));
    std::memcpy(buf, value.data() + offset, n);
    return static_cast<int>(n);
}

// A write the model took long over (its lock, or catching a kdamond up on
// the samples it owes) is said on stderr: a test that timed out on one can
// tell the emulator's time from damond's.
struct SlowWriteNote {
    std::string path;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~SlowWriteNote() {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        if (ms >= 500) std::cerr << "damon-sysfs-emu: a write of " << path << " took " << ms << " ms\n";
    }
};

int emu_write(const char* path, const char* buf, size_t size, off_t, fuse_file_info*) {
    const std::string p = rel(path);
    const SlowWriteNote note{p};
    int err = 0;
    const WriteOutcome o = g_model->write(p, std::string(buf, size), err);
    if (o == WriteOutcome::Failed) return err;
    if (o == WriteOutcome::Blocks) {
        // Like a kernel write stuck in an uninterruptible wait: this request
        // thread waits until the model releases it (or forever).
        // Unmounting or SIGTERM ends the wait, so the emulator can exit.
        fuse_session* session = fuse_get_session(fuse_get_context()->fuse);
        while (!g_model->write_released(p, err)) {
            if (fuse_session_exited(session)) return -ENOTCONN;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (err) return err;
    }
    return static_cast<int>(size);
}

// Shells open with O_TRUNC: sysfs files ignore it; a control under _emu/
// truncated to nothing (printf '' > _emu/fail) is cleared.
int emu_truncate(const char* path, off_t size, fuse_file_info*) {
    const std::string p = rel(path);
    if (size == 0 && p.rfind("_emu/", 0) == 0) {
        int err = 0;
        if (g_model->write(p, "", err) == WriteOutcome::Failed) return err;
    }
    return 0;
}

void* emu_init(fuse_conn_info*, fuse_config* cfg) {
    cfg->direct_io = 1;
    cfg->attr_timeout = 0;
    cfg->entry_timeout = 0;
    cfg->negative_timeout = 0;
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    std::string profile;
    std::vector<char*> args{argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--profile" && i + 1 < argc)
            profile = argv[++i];
        else
            args.push_back(argv[i]);
    }
    if (profile.empty() || args.size() < 2) {
        std::cerr << "usage: damon-sysfs-emu --profile 6.1|6.12|6.18|7.2 MOUNTPOINT\n";
        return 2;
    }
    try {
        g_clock = std::make_unique<MonotonicClock>();
        g_model = std::make_unique<DamonTreeModel>(profile_named(profile), *g_clock);
    } catch (const std::exception& e) {
        std::cerr << "damon-sysfs-emu: " << e.what() << "\n";
        return 2;
    }
    static char foreground[] = "-f";
    args.push_back(foreground);
    fuse_operations ops{};
    ops.getattr = emu_getattr;
    ops.readdir = emu_readdir;
    ops.open = emu_open;
    ops.read = emu_read;
    ops.write = emu_write;
    ops.truncate = emu_truncate;
    ops.init = emu_init;
    return fuse_main(static_cast<int>(args.size()), args.data(), &ops, nullptr);
}
