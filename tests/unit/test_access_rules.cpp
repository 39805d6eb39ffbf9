// The access rules on their own: the kernel's PTRACE_MODE_READ check as
// damond applies it, what /proc says of a process, cgroups' users, and
// ownership kept across restarts.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include <gtest/gtest.h>

#include "base/errors.hpp"
#include "manager/access_rules.hpp"
#include "manager/app_processes.hpp"
#include "manager/saved_state.hpp"
#include "sources/process_creds.hpp"

using namespace damond;

namespace {

ProcessCreds runs_as(uid_t uid, gid_t gid, bool dumpable = true) {
    ProcessCreds c;
    c.uid = c.euid = c.suid = uid;
    c.gid = c.egid = c.sgid = gid;
    c.dumpable = dumpable;
    return c;
}

ContextSpec watching(std::vector<int64_t> pids, Ops ops = Ops::Vaddr) {
    ContextSpec spec;
    spec.ops = ops;
    for (int64_t p : pids) {
        Target t;
        t.pid_target = p;
        spec.targets.push_back(t);
    }
    return spec;
}

CredsReader from(std::map<uint32_t, ProcessCreds> procs) {
    return [procs](uint32_t pid) -> std::optional<ProcessCreds> {
        auto it = procs.find(pid);
        if (it == procs.end()) return std::nullopt;
        return it->second;
    };
}

Requester user(uid_t uid, std::vector<gid_t> groups) {
    Requester r;
    r.uid = uid;
    r.groups = std::move(groups);
    r.limits_key = "uid " + std::to_string(uid);
    return r;
}

std::string denial(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const DamondError& e) {
        return e.kind() == ErrorKind::AccessDenied ? e.what() : std::string("not AccessDenied: ") + e.what();
    }
    return "";
}

}  // namespace

TEST(AccessRules, TheKernelsReadRuleSameIdsAGroupOfTheCallersAndDumpable) {
    EXPECT_EQ(why_not_readable(1000, {1000}, runs_as(1000, 1000)), "");
    EXPECT_EQ(why_not_readable(0, {}, runs_as(1000, 1000, false)), "") << "root reads everything";
    // Any of the caller's groups: a member may take it as its gid (sg).
    EXPECT_EQ(why_not_readable(1000, {27, 1000}, runs_as(1000, 27)), "");

    ProcessCreds setuid_root = runs_as(1000, 1000, false);
    setuid_root.euid = setuid_root.suid = 0;
    EXPECT_EQ(why_not_readable(1000, {1000}, setuid_root),
              "it runs as uid 1000 (effective 0, saved 0), not as uid 1000");
    EXPECT_NE(why_not_readable(1000, {1000}, runs_as(0, 0)).find("it runs as uid 0"), std::string::npos);

    ProcessCreds setgid = runs_as(1000, 1000);
    setgid.egid = 42;
    EXPECT_NE(why_not_readable(1000, {1000, 42}, setgid).find("gid 1000 (effective 42, saved 1000)"),
              std::string::npos);
    EXPECT_NE(why_not_readable(1000, {100}, runs_as(1000, 1000)).find("which uid 1000 does not have"),
              std::string::npos);
    EXPECT_NE(why_not_readable(1000, {1000}, runs_as(1000, 1000, false)).find("not dumpable"), std::string::npos);
}

TEST(AccessRules, ProcSaysWhoAProcessRunsAsAndWhetherItIsDumpable) {
    const auto self = read_process_creds(static_cast<uint32_t>(getpid()));
    ASSERT_TRUE(self);
    EXPECT_EQ(self->uid, getuid());
    EXPECT_EQ(self->euid, geteuid());
    EXPECT_EQ(self->gid, getgid());
    EXPECT_TRUE(self->dumpable);

    // A child that changed its uid: the kernel made it non-dumpable (until
    // it execs), and its /proc files went to root, which is how damond
    // tells; it turns dumping back on, and they are its own again.
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as another user";
    int up[2], down[2];  // child -> parent, parent -> child
    ASSERT_EQ(pipe(up), 0);
    ASSERT_EQ(pipe(down), 0);
    const pid_t child = fork();
    if (child == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(1);
        char c;
        if (write(up[1], "a", 1) != 1 || read(down[0], &c, 1) != 1) _exit(1);  // wait for the parent's look
        prctl(PR_SET_DUMPABLE, 1);
        if (write(up[1], "b", 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    char c;
    ASSERT_EQ(read(up[0], &c, 1), 1);
    const auto before = read_process_creds(static_cast<uint32_t>(child));
    ASSERT_TRUE(before);
    EXPECT_EQ(before->uid, 65534u);
    EXPECT_EQ(before->egid, 65534u);
    EXPECT_FALSE(before->dumpable);
    ASSERT_EQ(write(down[1], "x", 1), 1);
    ASSERT_EQ(read(up[0], &c, 1), 1);
    ASSERT_EQ(c, 'b');
    const auto after = read_process_creds(static_cast<uint32_t>(child));
    ASSERT_TRUE(after);
    EXPECT_TRUE(after->dumpable);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    for (int fd : {up[0], up[1], down[0], down[1]}) close(fd);
    EXPECT_FALSE(read_process_creds(static_cast<uint32_t>(child))) << "a reaped process has no credentials";
}

TEST(AccessRules, TargetsAreAdmittedByTheRuleOrByAGrant) {
    const CredsReader read = from({{10, runs_as(1000, 1000)}, {11, runs_as(0, 0)}});
    EXPECT_EQ(admit_targets(user(1000, {1000}), watching({10}), read), (Ownership{1000, {1000}, false}));
    EXPECT_EQ(admit_targets(Requester::damond(), watching({11}), read), (Ownership{0, {}, false}));

    Requester asks = user(1000, {1000});
    std::vector<Grant> asked;
    asks.ask = [&](Grant g, std::string& why) {
        asked.push_back(g);
        why = "said no";
        return false;
    };
    const std::string refused = denial([&] { admit_targets(asks, watching({10, 11}), read); });
    EXPECT_NE(refused.find("targets[1].pid_target: uid 1000 may not watch pid 11: it runs as uid 0"), std::string::npos)
        << refused;
    EXPECT_NE(refused.find("(grant monitor-others: said no)"), std::string::npos) << refused;
    const std::string machine = denial([&] { admit_targets(asks, watching({}, Ops::Paddr), read); });
    EXPECT_NE(machine.find("ops paddr watches the whole machine's physical memory"), std::string::npos) << machine;
    EXPECT_EQ(asked, (std::vector<Grant>{Grant::MonitorOthers, Grant::MonitorSystem}));
    // Nobody to ask: no.
    EXPECT_NE(denial([&] { admit_targets(user(1000, {1000}), watching({11}), read); }).find("nobody to ask"),
              std::string::npos);
    // A pid with no process is refused by name, not left to the monitor.
    try {
        admit_targets(user(1000, {1000}), watching({12}), read);
        ADD_FAILURE() << "admitted a pid without a process";
    } catch (const DamondError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        EXPECT_STREQ(e.what(), "targets[0].pid_target: no process has pid 12");
    }

    asks.ask = [](Grant, std::string&) { return true; };
    EXPECT_TRUE(admit_targets(asks, watching({11}), read).granted);
    // The synthetic source watches nothing of anyone's.
    EXPECT_FALSE(admit_targets(user(1000, {}), watching({}, Ops::Synthetic), read).granted);
}

TEST(AccessRules, AnOwnerAdmittedByTheRuleLosesATargetThatChangesHands) {
    std::map<uint32_t, ProcessCreds> procs{{10, runs_as(1000, 1000)}};
    const Ownership owner{1000, {1000}, false};
    EXPECT_EQ(lost_access(owner, watching({10}), from(procs)), "");
    procs[10].euid = 0;  // a setuid program
    const std::string why = lost_access(owner, watching({10}), from(procs));
    EXPECT_NE(why.find("pid 10 changed hands: it runs as uid 1000 (effective 0"), std::string::npos) << why;
    EXPECT_EQ(lost_access(Ownership{1000, {1000}, true}, watching({10}), from(procs)), "") << "granted";
    EXPECT_EQ(lost_access(Ownership{}, watching({10}), from(procs)), "") << "root";
    EXPECT_EQ(lost_access(owner, watching({10}), from({})), "") << "gone: the monitor's business";
}

TEST(AccessRules, ACgroupBelongsToTheUserWhoseSliceHoldsIt) {
    EXPECT_EQ(uid_of_cgroup("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.scope"),
              1000u);
    EXPECT_EQ(uid_of_cgroup("/sys/fs/cgroup/user.slice/user-1001.slice/session-3.scope"), 1001u);
    EXPECT_EQ(uid_of_cgroup("/dev/cgroup/apps/uid_10123/pid_4567"), 10123u);
    EXPECT_EQ(uid_of_cgroup("/sys/fs/cgroup/system.slice/foo.service"), 0u);
    EXPECT_EQ(uid_of_cgroup("/sys/fs/cgroup/user-99999999999.slice"), 0u) << "not a uid";
    EXPECT_EQ(uid_of_cgroup(""), 0u);
}

TEST(AccessRules, OwnershipIsKeptAcrossRestartsAndOldFilesFallBackToTheCreator) {
    SavedState s;
    s.contexts["c"] = watching({10});
    s.context_callers["c"] = "uid 1000";
    s.context_owners["c"] = Ownership{1000, {1000, 27}, true};
    SavedApp app;
    app.app_id = "a";
    app.state = "background";
    app.owner = Ownership{1001, {1001}, false};
    s.apps.push_back(app);
    const SavedState back = saved_state_from_json(saved_state_to_json(s));
    EXPECT_EQ(back.context_owners.at("c"), (Ownership{1000, {1000, 27}, true}));
    EXPECT_EQ(back.apps.at(0).owner, (Ownership{1001, {1001}, false}));

    // Written before ownership: the creator owns it and is held to the rule.
    const SavedState old = saved_state_from_json(R"({"version": 1, "contexts": {}, "config_paused": {},
        "context_callers": {"c": "uid 0"}, "apps": [{"app_id": "a", "state": "background", "processes": [],
        "foreground_profile": "f", "background_profile": "b", "caller": ""}], "holds": [], "next_cookie": 1})");
    EXPECT_EQ(old.context_owners.at("c").uid, 0u);
    EXPECT_FALSE(old.context_owners.at("c").granted);
    EXPECT_EQ(old.apps.at(0).owner, Ownership{});
}
