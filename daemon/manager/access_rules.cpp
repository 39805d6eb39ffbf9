#include "manager/access_rules.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>

#include "base/errors.hpp"

namespace damond {

const char* to_string(Grant grant) {
    switch (grant) {
    case Grant::MonitorOthers: return "monitor-others";
    case Grant::MonitorSystem: return "monitor-system";
    case Grant::ReadOthers: return "read-others";
    }
    return "?";
}

Requester Requester::user(uid_t uid) {
    Requester r;
    r.uid = uid;
    passwd pw{};
    passwd* p = nullptr;
    std::vector<char> buf(16384);
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &p) != 0 || !p) return r;  // no groups: only the uid counts
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (getgrouplist(p->pw_name, p->pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<size_t>(n));
        if (getgrouplist(p->pw_name, p->pw_gid, groups.data(), &n) < 0) return r;
    }
    groups.resize(static_cast<size_t>(n));
    r.groups = groups;
    return r;
}

CredsReader proc_creds_reader() {
    return [](uint32_t pid) { return read_process_creds(pid); };
}

std::string why_not_readable(uid_t uid, const std::vector<gid_t>& groups, const ProcessCreds& t) {
    if (uid == 0) return "";
    if (t.uid != uid || t.euid != uid || t.suid != uid)
        return "it runs as uid " + std::to_string(t.uid) + " (effective " + std::to_string(t.euid) + ", saved " +
               std::to_string(t.suid) + "), not as uid " + std::to_string(uid);
    const bool has_gid = std::find(groups.begin(), groups.end(), t.gid) != groups.end();
    if (t.egid != t.gid || t.sgid != t.gid || !has_gid)
        return "it runs with gid " + std::to_string(t.gid) + " (effective " + std::to_string(t.egid) + ", saved " +
               std::to_string(t.sgid) + "), which uid " + std::to_string(uid) + " does not have";
    if (!t.dumpable)
        return "it is not dumpable (it runs a setuid program, changed its ids since it last ran one, or turned "
               "dumping off)";
    return "";
}

bool has_private_regions(Ops ops) { return ops != Ops::Synthetic; }

std::vector<uint32_t> watched_pids(const ContextSpec& spec) {
    std::vector<uint32_t> out;
    if (!watches_process(spec.ops)) return out;
    for (const Target& t : spec.targets)
        if (t.pid_target) out.push_back(static_cast<uint32_t>(*t.pid_target));
    return out;
}

namespace {

std::string rule_text(uint32_t pid) {
    return "the kernel lets only a caller who can read /proc/" + std::to_string(pid) +
           "/smaps see what it touches (PTRACE_MODE_READ), and so does damond; membership of damond's group "
           "does not lift that";
}

}  // namespace

Ownership admit_targets(const Requester& who, const ContextSpec& spec, const CredsReader& read) {
    Ownership o{who.uid, who.groups, false};
    if (who.uid == 0) return o;
    std::string refused;  // the first target the rule refuses, with why
    if (spec.ops == Ops::Paddr) {
        refused = "ops paddr watches the whole machine's physical memory, which only root may";
    } else if (watches_process(spec.ops)) {
        for (size_t i = 0; i < spec.targets.size() && refused.empty(); ++i) {
            if (!spec.targets[i].pid_target) continue;
            const auto pid = static_cast<uint32_t>(*spec.targets[i].pid_target);
            const std::string field = "targets[" + std::to_string(i) + "].pid_target";
            const std::optional<ProcessCreds> creds = read(pid);
            // Checked here, not left to the monitor: a pid that is free now
            // may be another user's process by the time it is opened.
            if (!creds)
                throw DamondError(ErrorKind::InvalidArgument, field + ": no process has pid " + std::to_string(pid));
            if (const std::string why = why_not_readable(who.uid, who.groups, *creds); !why.empty())
                refused = field + ": uid " + std::to_string(who.uid) + " may not watch pid " + std::to_string(pid) +
                          ": " + why + "; " + rule_text(pid);
        }
    }
    if (refused.empty()) return o;
    const Grant grant = spec.ops == Ops::Paddr ? Grant::MonitorSystem : Grant::MonitorOthers;
    std::string why = "nobody to ask";
    if (who.ask && who.ask(grant, why)) {
        o.granted = true;
        return o;
    }
    throw DamondError(ErrorKind::AccessDenied, refused + " (grant " + to_string(grant) + ": " + why + ")");
}

std::string lost_access(const Ownership& owner, const ContextSpec& spec, const CredsReader& read) {
    if (owner.uid == 0 || owner.granted || !watches_process(spec.ops)) return "";
    for (uint32_t pid : watched_pids(spec)) {
        const std::optional<ProcessCreds> creds = read(pid);
        if (!creds) continue;  // gone: the monitor reports that itself
        if (const std::string why = why_not_readable(owner.uid, owner.groups, *creds); !why.empty())
            return "pid " + std::to_string(pid) + " changed hands: " + why + "; its owner uid " +
                   std::to_string(owner.uid) + " may no longer read it, so damond stopped watching it";
    }
    return "";
}

}  // namespace damond
