#include "damon_tree_model.hpp"

#include <signal.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/damon_core.hpp"
#include "core/synthetic_source.hpp"
#include "kernel/sysfs_layout.hpp"
#include "spec/context_spec.hpp"

namespace damond::emu {

namespace {

constexpr const char* kEmu = "_emu";

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> out;
    std::stringstream in(path);
    for (std::string part; std::getline(in, part, '/');)
        if (!part.empty()) out.push_back(part);
    return out;
}

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

bool parse_u64(const std::string& s, uint64_t& v) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    v = std::strtoull(s.c_str(), &end, 0);
    return errno == 0 && end && *end == '\0' && s[0] != '-';
}

bool parse_bool(const std::string& s, bool& v) {
    static const std::set<std::string> yes{"Y", "y", "1", "on"}, no{"N", "n", "0", "off"};
    if (yes.count(s)) return v = true, true;
    if (no.count(s)) return v = false, true;
    return false;
}

bool is_bool_file(const std::string& name) {
    return name == "pause" || name == "matching" || name == "allow" || name == "obsolete_target";
}

bool is_text_file(const std::string& name) {
    return name == "operations" || name == "action" || name == "metric" || name == "type" || name == "target_metric" ||
           name == "goal_tuner" || name == "memcg_path" || name == "path" || name == "state";
}

int errno_named(const std::string& name) {
    static const std::map<std::string, int> names{{"EBUSY", EBUSY},   {"EINVAL", EINVAL}, {"EIO", EIO},
                                                  {"ENOMEM", ENOMEM}, {"EPERM", EPERM},   {"ECANCELED", ECANCELED}};
    auto it = names.find(name);
    return it == names.end() ? EIO : it->second;
}

// nr_* file -> the level of the directories it makes.
std::optional<SysfsLevel> level_for_nr(const std::string& path) {
    const std::string dir = base_of(parent_of(path));
    const std::string name = base_of(path);
    if (name == "nr_kdamonds") return SysfsLevel::Kdamond;
    if (name == "nr_contexts") return SysfsLevel::Context;
    if (name == "nr_targets") return SysfsLevel::Target;
    if (name == "nr_regions" && dir == "regions") return SysfsLevel::Region;
    if (name == "nr_schemes") return SysfsLevel::Scheme;
    if (name == "nr_goals") return SysfsLevel::Goal;
    if (name == "nr_probes") return SysfsLevel::Probe;
    if (name == "nr_filters" && path.find("/probes/") != std::string::npos) return SysfsLevel::ProbeFilter;
    if (name == "nr_filters") return SysfsLevel::Filter;
    if (name == "nr_dests") return SysfsLevel::Dest;
    return std::nullopt;
}

}  // namespace

Profile profile_named(const std::string& name) {
    if (name == "6.1") return Profile{name, {6, 1, 0}, false};
    if (name == "6.12") return Profile{name, {6, 12, 0}, false};
    if (name == "6.18") return Profile{name, {6, 18, 0}, true};
    if (name == "7.2") return Profile{name, {7, 2, 0}, true};
    throw std::invalid_argument("unknown profile '" + name + "' (6.1, 6.12, 6.18 or 7.2)");
}

// What the watermarks of the simulated kdamonds see.
class EmuMetrics : public SystemMetrics {
public:
    explicit EmuMetrics(const std::string* free_rate) : free_rate_(free_rate) {}
    std::optional<uint64_t> free_mem_rate() override {
        uint64_t v = 0;
        return parse_u64(*free_rate_, v) ? std::optional<uint64_t>(v) : std::nullopt;
    }
    uint64_t some_mem_psi_total_us() override { return 0; }
    std::optional<uint64_t> goal_metric(const QuotaGoal&) override { return std::nullopt; }

private:
    const std::string* free_rate_;
};

struct KdamondRuntime {
    ContextSpec spec;
    std::unique_ptr<EmuMetrics> metrics;
    std::unique_ptr<DamonCore> core;
    uint64_t last_us = 0;
};

DamonTreeModel::DamonTreeModel(Profile profile, const Clock& clock) : profile_(std::move(profile)), clock_(clock) {
    add_dir("");
    add_dir("kdamonds");
    add_file("kdamonds/nr_kdamonds", "0", true);
    add_file(join(kEmu, "log"), "", true);  // "" clears it
    add_file(join(kEmu, "fail"), "", true);
    add_file(join(kEmu, "fail_read"), "", true);
    add_file(join(kEmu, "read_log"), "", true);
    add_file(join(kEmu, "hang"), "", true);
    add_file(join(kEmu, "hang_read"), "", true);
    add_file(join(kEmu, "refuse_commit"), "0", true);
    add_file(join(kEmu, "free_mem_rate"), "500", true);
    for (const char* m : {"damon_stat", "damon_reclaim", "damon_lru_sort"})
        add_file(join(kEmu, std::string("module/") + m + "/parameters/enabled"), "N", true);
}

DamonTreeModel::~DamonTreeModel() = default;

void DamonTreeModel::add_dir(const std::string& path) {
    if (!path.empty()) add_dir(parent_of(path));
    nodes_[path].dir = true;
}

void DamonTreeModel::add_file(const std::string& path, const std::string& value, bool writable) {
    add_dir(parent_of(path));
    nodes_[path] = Node{false, writable, value};
}

void DamonTreeModel::remove_tree(const std::string& path) {
    nodes_.erase(path);
    const std::string prefix = path + "/";
    for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.rfind(prefix, 0) == 0;)
        it = nodes_.erase(it);
}

void DamonTreeModel::make_level(const std::string& dir, int level) {
    add_dir(dir);
    for (const SysfsFile& f : sysfs_files_of(static_cast<SysfsLevel>(level), profile_.version))
        add_file(join(dir, f.path), f.initial, f.writable);
    if (static_cast<SysfsLevel>(level) == SysfsLevel::Scheme && profile_.version.at_least(6, 2))
        add_dir(join(dir, "tried_regions"));
}

void DamonTreeModel::resize_children(const std::string& dir, uint64_t n, int level) {
    // The kernel destroys and recreates every child for nr_kdamonds; for the
    // others it keeps the first ones and trims or appends.
    uint64_t have = 0;
    while (nodes_.count(join(dir, std::to_string(have)))) ++have;
    for (uint64_t i = n; i < have; ++i) remove_tree(join(dir, std::to_string(i)));
    for (uint64_t i = have; i < n; ++i) make_level(join(dir, std::to_string(i)), level);
}

bool DamonTreeModel::exists(const std::string& path) const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return nodes_.count(path) != 0;
}

bool DamonTreeModel::is_dir(const std::string& path) const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto it = nodes_.find(path);
    return it != nodes_.end() && it->second.dir;
}

bool DamonTreeModel::writable(const std::string& path) const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto it = nodes_.find(path);
    return it != nodes_.end() && !it->second.dir && it->second.writable;
}

std::vector<std::string> DamonTreeModel::list(const std::string& dir) const {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    std::vector<std::string> out;
    const std::string prefix = dir.empty() ? "" : dir + "/";
    for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
        const std::string rest = it->first.substr(prefix.size());
        if (!rest.empty() && rest.find('/') == std::string::npos) out.push_back(rest);
    }
    return out;
}

int DamonTreeModel::read(const std::string& path, std::string& out) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (path.rfind(join(kEmu, "live/"), 0) == 0) return read_live(path.substr(join(kEmu, "live/").size()), out);
    if (path.rfind(join(kEmu, "applied_pause/"), 0) == 0) {
        // What the running kdamond took from its pause file at the last on
        // or commit (the file itself only stages it).
        try {
            auto rt =
                runtimes_.find(static_cast<uint32_t>(std::stoul(path.substr(join(kEmu, "applied_pause/").size()))));
            if (rt == runtimes_.end() || !rt->second) return -ENOENT;
            out = rt->second->spec.pause ? "Y" : "N";
            return 0;
        } catch (const std::exception&) {
            return -ENOENT;
        }
    }
    if (path.rfind(kEmu, 0) != 0) {
        nodes_[join(kEmu, "read_log")].value += path + "\n";
        int err = 0;
        if (take_fault(path, err, "fail_read")) return -err;
    }
    auto it = nodes_.find(path);
    if (it == nodes_.end()) return -ENOENT;
    if (it->second.dir) return -EISDIR;
    out = it->second.value;
    return 0;
}

int DamonTreeModel::read_live(const std::string& kdamond, std::string& out) {
    uint32_t k = 0;
    try {
        k = static_cast<uint32_t>(std::stoul(kdamond));
    } catch (const std::exception&) {
        return -ENOENT;
    }
    auto it = runtimes_.find(k);
    if (it == runtimes_.end() || !it->second) return -ENOENT;
    advance(k);
    const DamonContext& ctx = it->second->core->context();
    std::ostringstream o;
    o << "sample_us " << ctx.attrs.sample_us << " aggr_us " << ctx.attrs.aggr_us << "\n";
    for (const MonitorTarget& t : ctx.targets)
        for (const Region& r : t.regions)
            o << r.start << " " << r.end << " " << r.nr_accesses << " " << r.nr_accesses_bp << " " << r.last_nr_accesses
              << " " << r.age << "\n";
    out = o.str();
    return 0;
}

void DamonTreeModel::log(const std::string& path, const std::string& value, int result) {
    Node& l = nodes_[join(kEmu, "log")];
    l.value +=
        path + " " + value + " -> " + (result == 0 ? std::string("ok") : std::string(strerrorname_np(-result))) + "\n";
}

bool DamonTreeModel::take_fault(const std::string& path, int& err, const char* control) {
    Node& f = nodes_[join(kEmu, control)];
    std::istringstream in(f.value);
    std::string out, line;
    bool hit = false;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string suffix, name;
        int count = 1;
        words >> suffix >> name >> count;
        if (!hit && !suffix.empty() && path.size() >= suffix.size() &&
            path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
            hit = true;
            err = errno_named(name);
            if (--count > 0) out += suffix + " " + name + " " + std::to_string(count) + "\n";
            continue;
        }
        if (!line.empty()) out += line + "\n";
    }
    f.value = out;
    return hit;
}

bool DamonTreeModel::take_read_hang(const std::string& path) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return take_hang(path, "hang_read");
}

bool DamonTreeModel::take_hang(const std::string& path, const char* control) {
    Node& h = nodes_[join(kEmu, control)];
    const std::string suffix = h.value;
    if (suffix.empty() || path.size() < suffix.size() ||
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
        return false;
    h.value.clear();
    return true;
}

WriteOutcome DamonTreeModel::write(const std::string& path, const std::string& raw, int& err) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    std::string value = raw;
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    bool blocks = false;
    err = write_locked(path, value, blocks);
    if (path.rfind(kEmu, 0) != 0) log(path, value, blocks ? 0 : err);
    if (blocks) return WriteOutcome::Blocks;
    return err ? WriteOutcome::Failed : WriteOutcome::Done;
}

bool DamonTreeModel::write_released(const std::string& path, int& err) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto it = blocked_.find(path);
    if (it == blocked_.end() || it->second == 1) return false;  // 1: still blocked
    err = it->second;
    blocked_.erase(it);
    return true;
}

int DamonTreeModel::write_locked(const std::string& path, const std::string& value, bool& blocks) {
    auto it = nodes_.find(path);
    if (it == nodes_.end()) return -ENOENT;
    if (it->second.dir) return -EISDIR;
    if (path.rfind(kEmu, 0) == 0) {
        if ((path == join(kEmu, "fail") || path == join(kEmu, "fail_read")) && value == "clear")
            it->second.value.clear();
        else if ((path == join(kEmu, "fail") || path == join(kEmu, "fail_read")) && !value.empty())
            it->second.value += value + "\n";
        else
            it->second.value = value;
        return 0;
    }
    if (!it->second.writable) return -EACCES;
    int err = 0;
    if (take_fault(path, err)) return -err;
    if (take_hang(path)) {
        blocked_[path] = 1;  // never released
        blocks = true;
        return 0;
    }
    const std::string name = base_of(path);
    if (name == "state") {
        const auto parts = split(path);
        return state_command(static_cast<uint32_t>(std::stoul(parts[1])), value, blocks);
    }
    if (level_for_nr(path)) return write_nr(path, value);
    if (is_bool_file(name)) {
        bool b = false;
        if (!parse_bool(value, b)) return -EINVAL;
        it->second.value = b ? "Y" : "N";
        return 0;
    }
    if (!is_text_file(name)) {
        uint64_t v = 0;
        if (name == "target_nid" || name == "pid_target") {
            char* end = nullptr;
            errno = 0;
            std::strtoll(value.c_str(), &end, 0);
            if (errno || !end || *end) return -EINVAL;
        } else if (!parse_u64(value, v)) {
            return -EINVAL;
        }
    }
    it->second.value = value;
    return 0;
}

int DamonTreeModel::write_nr(const std::string& path, const std::string& value) {
    uint64_t n = 0;
    if (!parse_u64(value, n)) return -EINVAL;
    const SysfsLevel level = *level_for_nr(path);
    if (level == SysfsLevel::Kdamond) {
        for (const auto& [k, rt] : runtimes_)
            if (rt) return -EBUSY;
        // A rewrite destroys every kdamond directory, then makes n new ones.
        resize_children("kdamonds", 0, static_cast<int>(level));
        runtimes_.clear();
    }
    if (level == SysfsLevel::Context && n > 1) return -EINVAL;
    resize_children(parent_of(path), n, static_cast<int>(level));
    nodes_[path].value = std::to_string(n);
    return 0;
}

namespace {

// Staged files of one kdamond's context, read into damond's own spec type:
// what the kernel's damon_sysfs builds its parameter context from.
class Staged {
public:
    Staged(const std::map<std::string, std::string>& files, std::string ctx) : files_(files), ctx_(std::move(ctx)) {}

    std::string s(const std::string& rel, const std::string& fallback = "") const {
        auto it = files_.find(join(ctx_, rel));
        return it == files_.end() ? fallback : it->second;
    }
    uint64_t u(const std::string& rel, uint64_t fallback = 0) const {
        uint64_t v = fallback;
        parse_u64(s(rel), v);
        return v;
    }
    bool b(const std::string& rel) const {
        bool v = false;
        parse_bool(s(rel, "N"), v);
        return v;
    }
    bool has(const std::string& rel) const { return files_.count(join(ctx_, rel)) != 0; }

private:
    const std::map<std::string, std::string>& files_;
    std::string ctx_;
};

std::optional<Action> action_named(const std::string& n) {
    static const std::map<std::string, Action> m{{"willneed", Action::Willneed},
                                                 {"cold", Action::Cold},
                                                 {"pageout", Action::Pageout},
                                                 {"hugepage", Action::Hugepage},
                                                 {"nohugepage", Action::Nohugepage},
                                                 {"collapse", Action::Collapse},
                                                 {"lru_prio", Action::LruPrio},
                                                 {"lru_deprio", Action::LruDeprio},
                                                 {"migrate_hot", Action::MigrateHot},
                                                 {"migrate_cold", Action::MigrateCold},
                                                 {"stat", Action::Stat}};
    auto it = m.find(n);
    return it == m.end() ? std::nullopt : std::optional<Action>(it->second);
}

std::optional<FilterType> filter_named(const std::string& n) {
    static const std::map<std::string, FilterType> m{{"addr", FilterType::Addr},
                                                     {"target", FilterType::Target},
                                                     {"anon", FilterType::Anon},
                                                     {"active", FilterType::Active},
                                                     {"memcg", FilterType::Memcg},
                                                     {"young", FilterType::Young},
                                                     {"hugepage_size", FilterType::HugepageSize},
                                                     {"unmapped", FilterType::Unmapped}};
    auto it = m.find(n);
    return it == m.end() ? std::nullopt : std::optional<FilterType>(it->second);
}

// damon_sysfs's checks while building the parameter context: a failure here
// returns EINVAL and leaves the kdamond untouched. `inside_commit` reports a
// value that only fails inside damon_commit_ctx, which kills the kdamond.
int build_params(const Staged& st, const Profile& profile, ContextSpec& spec, bool& inside_commit) {
    inside_commit = false;
    const std::string ops = st.s("operations");
    if (ops == "vaddr")
        spec.ops = Ops::Vaddr;
    else if (ops == "fvaddr")
        spec.ops = Ops::Fvaddr;
    else if (ops == "paddr")
        spec.ops = Ops::Paddr;
    else
        return -EINVAL;
    spec.intervals.sample_us = st.u("monitoring_attrs/intervals/sample_us");
    spec.intervals.aggr_us = st.u("monitoring_attrs/intervals/aggr_us");
    spec.intervals.update_us = st.u("monitoring_attrs/intervals/update_us");
    IntervalsGoal& g = spec.intervals.intervals_goal;
    g.access_bp = st.u("monitoring_attrs/intervals/intervals_goal/access_bp");
    g.aggrs = st.u("monitoring_attrs/intervals/intervals_goal/aggrs");
    g.min_sample_us = st.u("monitoring_attrs/intervals/intervals_goal/min_sample_us");
    g.max_sample_us = st.u("monitoring_attrs/intervals/intervals_goal/max_sample_us");
    spec.nr_regions.min = st.u("monitoring_attrs/nr_regions/min");
    spec.nr_regions.max = st.u("monitoring_attrs/nr_regions/max");
    if (spec.nr_regions.min < 3 || spec.nr_regions.min > spec.nr_regions.max) return -EINVAL;
    if (spec.intervals.sample_us > spec.intervals.aggr_us) return -EINVAL;
    if (g.aggrs && (g.min_sample_us > g.max_sample_us || spec.intervals.sample_us < g.min_sample_us ||
                    spec.intervals.sample_us > g.max_sample_us))
        return -EINVAL;
    spec.pause = profile.version.at_least(7, 2) && st.b("pause");

    const uint64_t nr_targets = st.u("targets/nr_targets");
    if (spec.ops == Ops::Paddr && nr_targets > 1) return -EINVAL;
    for (uint64_t t = 0; t < nr_targets; ++t) {
        const std::string td = "targets/" + std::to_string(t);
        Target target;
        if (spec.ops != Ops::Paddr) {
            const auto pid = static_cast<pid_t>(st.u(td + "/pid_target"));
            if (pid <= 0 || ::kill(pid, 0) != 0) return -EINVAL;  // no such process
            target.pid_target = pid;
        }
        const uint64_t nr = st.u(td + "/regions/nr_regions");
        for (uint64_t r = 0; r < nr; ++r) {
            const std::string rd = td + "/regions/" + std::to_string(r);
            AddrRange range{st.u(rd + "/start"), st.u(rd + "/end")};
            if (range.start > range.end) return -EINVAL;
            if (!target.regions.empty() && range.start < target.regions.back().end) return -EINVAL;
            if (range.start < range.end) target.regions.push_back(range);
        }
        spec.targets.push_back(target);
    }

    const uint64_t nr_schemes = st.u("schemes/nr_schemes");
    for (uint64_t i = 0; i < nr_schemes; ++i) {
        const std::string sd = "schemes/" + std::to_string(i);
        Scheme s;
        const auto action = action_named(st.s(sd + "/action"));
        if (!action) return -EINVAL;
        s.action = *action;
        s.access_pattern.sz = {st.u(sd + "/access_pattern/sz/min"), st.u(sd + "/access_pattern/sz/max")};
        s.access_pattern.nr_accesses = {st.u(sd + "/access_pattern/nr_accesses/min"),
                                        std::min<uint64_t>(st.u(sd + "/access_pattern/nr_accesses/max"), UINT32_MAX)};
        s.access_pattern.age = {st.u(sd + "/access_pattern/age/min"),
                                std::min<uint64_t>(st.u(sd + "/access_pattern/age/max"), UINT32_MAX)};
        s.apply_interval_us = st.u(sd + "/apply_interval_us");
        s.quotas.ms = st.u(sd + "/quotas/ms");
        s.quotas.bytes = st.u(sd + "/quotas/bytes");
        s.quotas.reset_interval_ms = st.u(sd + "/quotas/reset_interval_ms");
        s.quotas.weights = {st.u(sd + "/quotas/weights/sz_permil"), st.u(sd + "/quotas/weights/nr_accesses_permil"),
                            st.u(sd + "/quotas/weights/age_permil")};
        const uint64_t nr_goals = st.u(sd + "/quotas/goals/nr_goals");
        for (uint64_t k = 0; k < nr_goals; ++k) {
            const std::string gd = sd + "/quotas/goals/" + std::to_string(k);
            QuotaGoal goal;
            goal.target_value = st.u(gd + "/target_value");
            goal.current_value = st.u(gd + "/current_value");
            // Newer kernels refuse 0 inside the commit itself.
            if (goal.target_value == 0 && profile.version.at_least(6, 18)) inside_commit = true;
            s.quotas.goals.push_back(goal);
        }
        const std::string metric = st.s(sd + "/watermarks/metric", "none");
        if (metric == "free_mem_rate")
            s.watermarks.metric = WatermarkMetric::FreeMemRate;
        else if (metric != "none")
            return -EINVAL;
        s.watermarks.interval_us = st.u(sd + "/watermarks/interval_us");
        s.watermarks.high = st.u(sd + "/watermarks/high");
        s.watermarks.mid = st.u(sd + "/watermarks/mid");
        s.watermarks.low = st.u(sd + "/watermarks/low");
        for (const char* list : {"core_filters", "ops_filters", "filters"}) {
            const std::string fl = sd + "/" + list;
            const uint64_t nr = st.u(fl + "/nr_filters");
            for (uint64_t k = 0; k < nr; ++k) {
                const std::string fd = fl + "/" + std::to_string(k);
                const auto type = filter_named(st.s(fd + "/type"));
                if (!type) return -EINVAL;
                Filter f;
                f.type = *type;
                f.matching = st.b(fd + "/matching");
                f.allow = st.b(fd + "/allow");
                f.addr_start = st.u(fd + "/addr_start");
                f.addr_end = st.u(fd + "/addr_end");
                f.damon_target_idx = st.u(fd + "/damon_target_idx");
                // The core evaluates address and target filters only.
                if (f.type == FilterType::Addr || f.type == FilterType::Target) s.filters.push_back(f);
            }
        }
        spec.schemes.push_back(s);
    }
    return 0;
}

// Plausible accesses for a simulated kdamond: in every target range the
// first eighth is hot and the next eighth warm.
std::vector<SyntheticTarget> simulated_workload(const ContextSpec& spec) {
    std::vector<SyntheticTarget> out;
    for (const Target& t : spec.targets) {
        SyntheticPhase phase;
        for (const AddrRange& r : t.regions) {
            const uint64_t eighth = (r.end - r.start) / 8 / kMinRegionSize * kMinRegionSize;
            if (!eighth) continue;
            phase.sets.push_back({{r.start, r.start + eighth}, 9000, AccessKind::Both});
            phase.sets.push_back({{r.start + eighth, r.start + 2 * eighth}, 2000, AccessKind::Both});
        }
        out.push_back(SyntheticTarget{11, {phase}, {}});
    }
    return out;
}

std::vector<TargetRanges> ranges_of(const ContextSpec& spec) {
    std::vector<TargetRanges> out;
    for (const Target& t : spec.targets) {
        // vaddr without regions: a stand-in address space.
        out.push_back(t.regions.empty() ? TargetRanges{{0x400000, 0x400000 + (64ULL << 20)}} : t.regions);
    }
    return out;
}

}  // namespace

int DamonTreeModel::state_command(uint32_t k, const std::string& command, bool& blocks) {
    const std::string kd = "kdamonds/" + std::to_string(k);
    auto& rt = runtimes_[k];
    const bool running = rt != nullptr;
    std::map<std::string, std::string> files;
    for (auto it = nodes_.lower_bound(kd + "/"); it != nodes_.end() && it->first.rfind(kd + "/", 0) == 0; ++it)
        if (!it->second.dir) files[it->first] = it->second.value;
    const Staged st(files, kd + "/contexts/0");
    const bool one_context = nodes_[kd + "/contexts/nr_contexts"].value == "1";
    auto set_state = [&](bool on) {
        nodes_[kd + "/state"].value = on ? "on" : "off";
        nodes_[kd + "/pid"].value = on ? std::to_string(next_pid_++) : "-1";
    };
    auto stop = [&] {
        rt.reset();
        set_state(false);
        // A commit stuck on this kdamond returns once it is off.
        for (auto& [path, result] : blocked_)
            if (path == kd + "/state" && result == 1) result = 0;
    };

    if (command == "on") {
        if (running) return -EBUSY;
        for (const char* m : {"damon_stat", "damon_reclaim", "damon_lru_sort"})
            if (nodes_[join(kEmu, std::string("module/") + m + "/parameters/enabled")].value == "Y") return -EBUSY;
        if (!one_context) return -EINVAL;
        ContextSpec spec;
        bool inside = false;
        if (const int err = build_params(st, profile_, spec, inside); err) return err;
        if (inside) return -EINVAL;
        auto fresh = std::make_unique<KdamondRuntime>();
        fresh->spec = spec;
        fresh->metrics = std::make_unique<EmuMetrics>(&nodes_[join(kEmu, "free_mem_rate")].value);
        fresh->core = std::make_unique<DamonCore>(
            MonitoringAttrs{spec.intervals.sample_us, spec.intervals.aggr_us, spec.intervals.update_us,
                            spec.nr_regions.min, spec.nr_regions.max, spec.intervals.intervals_goal},
            ranges_of(spec), spec.schemes, std::make_unique<SyntheticSource>(simulated_workload(spec)), 1, clock_,
            *fresh->metrics);
        fresh->core->start();
        fresh->last_us = clock_.now_us();
        rt = std::move(fresh);
        set_state(true);
        return 0;
    }
    if (command == "off") {
        if (!running) return -EINVAL;
        stop();
        return 0;
    }
    // Commands newer than the profile's kernel are unknown keywords there.
    static const std::map<std::string, std::pair<int, int>> since{
        {"update_schemes_tried_regions", {6, 2}},    {"update_schemes_tried_bytes", {6, 6}},
        {"clear_schemes_tried_regions", {6, 2}},     {"commit_schemes_quota_goals", {6, 8}},
        {"update_schemes_effective_quotas", {6, 9}}, {"update_tuned_intervals", {6, 15}}};
    if (auto it = since.find(command);
        it != since.end() && !profile_.version.at_least(it->second.first, it->second.second))
        return -EINVAL;
    if (!running) return -EINVAL;
    advance(k);
    if (command == "commit") {
        if (!one_context) return -EINVAL;
        ContextSpec spec;
        bool inside = false;
        int err = build_params(st, profile_, spec, inside);
        if (std::string& refuse = nodes_[join(kEmu, "refuse_commit")].value; refuse != "0" && !refuse.empty()) {
            refuse = std::to_string(std::stoul(refuse) - 1);
            err = -EINVAL;
        }
        const bool parked = !rt->spec.pause && rt->core->activation_wait_us() > 0;
        if (parked && !profile_.commit_while_parked) {
            // Only "off" frees this writer.
            blocked_[kd + "/state"] = 1;
            blocks = true;
            return 0;
        }
        if ((err || inside) && !profile_.version.at_least(6, 15)) {
            // Up to 6.14 the commit runs in a kdamond callback: failing, it
            // ends the kdamond, and the writer is told 0 (measured on 6.12).
            stop();
            return 0;
        }
        if (err) return err;
        if (inside) {
            // maybe_corrupted: the kdamond stops.
            stop();
            return -EINVAL;
        }
        rt->core->commit(MonitoringAttrs{spec.intervals.sample_us, spec.intervals.aggr_us, spec.intervals.update_us,
                                         spec.nr_regions.min, spec.nr_regions.max, spec.intervals.intervals_goal},
                         ranges_of(spec), spec.schemes);
        if (auto* src = dynamic_cast<SyntheticSource*>(&rt->core->source())) src->set_targets(simulated_workload(spec));
        rt->spec = spec;
        return 0;
    }
    const DamonContext& ctx = rt->core->context();
    const std::string sd = kd + "/contexts/0/schemes/";
    if (command == "update_schemes_stats") {
        for (size_t i = 0; i < ctx.schemes.size(); ++i) {
            const std::string d = sd + std::to_string(i) + "/stats/";
            const DamosStat& s = ctx.schemes[i].stat;
            nodes_[d + "nr_tried"].value = std::to_string(s.nr_tried);
            nodes_[d + "sz_tried"].value = std::to_string(s.sz_tried);
            nodes_[d + "nr_applied"].value = std::to_string(s.nr_applied);
            nodes_[d + "sz_applied"].value = std::to_string(s.sz_applied);
            nodes_[d + "qt_exceeds"].value = std::to_string(s.qt_exceeds);
        }
        return 0;
    }
    if (command == "update_schemes_tried_regions" || command == "update_schemes_tried_bytes") {
        const bool parked = rt->core->activation_wait_us() > 0;
        if (rt->spec.pause || parked || ctx.schemes.empty()) return -ECANCELED;
        for (size_t i = 0; i < ctx.schemes.size(); ++i) {
            const std::string td = sd + std::to_string(i) + "/tried_regions";
            remove_tree(td);
            add_dir(td);
            uint64_t total = 0;
            const auto& tried = ctx.schemes[i].tried_regions;
            for (size_t r = 0; r < tried.size(); ++r) {
                total += tried[r].size();
                if (command == "update_schemes_tried_bytes") continue;
                const std::string rd = td + "/" + std::to_string(r);
                add_file(rd + "/start", std::to_string(tried[r].start), false);
                add_file(rd + "/end", std::to_string(tried[r].end), false);
                add_file(rd + "/nr_accesses", std::to_string(tried[r].nr_accesses_bp / 10000), false);
                add_file(rd + "/age", std::to_string(tried[r].age), false);
                // Probe hits: the emulator has no memory cgroups or anon
                // pages to ask about, so no sample passes a probe.
                for (uint64_t p = 0; p < st.u("monitoring_attrs/probes/nr_probes"); ++p)
                    add_file(rd + "/probes/" + std::to_string(p) + "/hits", "0", false);
            }
            if (profile_.version.at_least(6, 6)) add_file(td + "/total_bytes", std::to_string(total), false);
        }
        return 0;
    }
    if (command == "clear_schemes_tried_regions") {
        for (size_t i = 0; i < ctx.schemes.size(); ++i) {
            const std::string td = sd + std::to_string(i) + "/tried_regions";
            for (const std::string& e : list(td))
                if (e != "total_bytes") remove_tree(td + "/" + e);
        }
        return 0;
    }
    if (command == "update_schemes_effective_quotas") {
        for (size_t i = 0; i < ctx.schemes.size(); ++i)
            if (nodes_.count(sd + std::to_string(i) + "/quotas/effective_bytes"))
                nodes_[sd + std::to_string(i) + "/quotas/effective_bytes"].value =
                    std::to_string(ctx.schemes[i].quota.esz);
        return 0;
    }
    if (command == "update_tuned_intervals") {
        nodes_[kd + "/contexts/0/monitoring_attrs/intervals/sample_us"].value = std::to_string(ctx.attrs.sample_us);
        nodes_[kd + "/contexts/0/monitoring_attrs/intervals/aggr_us"].value = std::to_string(ctx.attrs.aggr_us);
        return 0;
    }
    if (command == "commit_schemes_quota_goals") return 0;
    return -EINVAL;
}

void DamonTreeModel::advance(uint32_t k) {
    auto it = runtimes_.find(k);
    if (it == runtimes_.end() || !it->second) return;
    KdamondRuntime& rt = *it->second;
    const uint64_t now = clock_.now_us();
    for (int steps = 0; steps < 100000; ++steps) {
        const uint64_t sample = std::max<uint64_t>(rt.core->context().attrs.sample_us, 1);
        if (rt.last_us + sample > now) return;
        // Paused (7.2) or parked by watermarks: time passes, nothing is sampled.
        if (rt.spec.pause || rt.core->activation_wait_us() > 0) {
            rt.last_us = now;
            return;
        }
        rt.core->prepare_sample();
        rt.core->finish_sample();
        rt.last_us += sample;
    }
    rt.last_us = now;  // too far behind: skip ahead
}

std::string ModelTree::read(const std::string& path) const {
    std::string out;
    if (model_.take_read_hang(path)) throw SysfsError(EDEADLK, path, "read would block forever:");
    if (const int err = model_.read(path, out); err) throw SysfsError(-err, path, "cannot read");
    return out;
}

void ModelTree::write(const std::string& path, const std::string& value) {
    int err = 0;
    const WriteOutcome o = model_.write(path, value, err);
    if (o == WriteOutcome::Blocks) throw SysfsError(EDEADLK, path, "write would block forever:");
    if (o == WriteOutcome::Failed) throw SysfsError(-err, path, "cannot write '" + value + "' to");
}

}  // namespace damond::emu
