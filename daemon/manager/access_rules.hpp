// Who may watch a process, and who may read what a context learned of it.
//
// The kernel keeps a process's memory layout and what it touches behind
// PTRACE_MODE_READ (/proc/<pid>/maps, smaps, pagemap); a root daemon that
// monitors processes for others must not hand out more. So damond's rule is
// the kernel's: a caller may watch a process when it could read that
// process's smaps itself, and only the context's owner (and root) reads its
// regions back. An authority (polkit, asked by the bus layer) may grant
// more: watching others' processes, the whole machine, reading others'
// contexts. docs/service.md, "Privacy", has the table.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sources/process_creds.hpp"
#include "spec/context_spec.hpp"

namespace damond {

// What an authority may grant beyond the rules.
enum class Grant {
    MonitorOthers,  // watch a process the caller could not read itself
    MonitorSystem,  // watch the machine's physical memory (paddr)
    ReadOthers,     // read region data of contexts others own
};
const char* to_string(Grant grant);  // "monitor-others", ...

// Who asks for an operation, as the rules judge them. From the bus: the uid
// and groups the bus driver reports for the connection, never anything
// looked up by pid (a pid can be reused or exec something else).
struct Requester {
    std::string limits_key;  // "uid N": whose limits it counts toward; "" for damond and event sources
    uid_t uid = 0;
    std::vector<gid_t> groups;  // every group of the caller, the primary one included
    // The authority's answer on whether `grant` is given to this requester;
    // fills `why` when not. Empty: there is nobody to ask, the answer is no.
    // The bus layer answers only what it has asked polkit already and
    // throws GrantUnasked for the rest: it asks then, without waiting, and
    // makes the call again. So the rules must ask before they change anything.
    std::function<bool(Grant grant, std::string& why)> ask;

    // damond itself: its config, its restarts, its tests.
    static Requester damond() { return {}; }
    // A user for whom damond acts on its own (an event source found the
    // app in that user's slice): the groups come from the user database.
    static Requester user(uid_t uid);
};

// Thrown by Requester::ask when the authority has not been asked yet.
class GrantUnasked : public std::runtime_error {
public:
    explicit GrantUnasked(Grant grant)
        : std::runtime_error(std::string("the authority has not been asked about ") + to_string(grant)),
          grant_(grant) {}
    Grant grant() const { return grant_; }

private:
    Grant grant_;
};

// Who a context is for. The owner reads its region data; `groups` are theirs
// as they were when the targets were admitted (the rule is checked again
// with them, without asking the user database on the main loop); `granted`
// says the authority admitted the targets (so the rule is not checked again).
struct Ownership {
    uid_t uid = 0;
    std::vector<gid_t> groups;
    bool granted = false;
    bool operator==(const Ownership&) const = default;
};

using CredsReader = std::function<std::optional<ProcessCreds>(uint32_t pid)>;
CredsReader proc_creds_reader();  // /proc

// The kernel's PTRACE_MODE_READ_FSCREDS for a caller without capabilities:
// "" when `uid` with `groups` may read `target`'s smaps, else why not.
// The kernel compares the caller's filesystem gid; the bus reports the
// caller's groups without saying which is primary, so any of them counts: a
// member of a group can take it as its gid anyway (sg, newgrp).
std::string why_not_readable(uid_t uid, const std::vector<gid_t>& groups, const ProcessCreds& target);

// Whether a context's regions carry a process's or the machine's addresses
// (everything but the synthetic source's made-up ones).
bool has_private_regions(Ops ops);

// Throws DamondError(AccessDenied) naming the target ("targets[0].pid_target")
// and the rule unless `who` may watch every target of `spec` (asking the
// authority once when the rule says no), InvalidArgument for a pid without
// a process; returns the ownership it earns.
Ownership admit_targets(const Requester& who, const ContextSpec& spec, const CredsReader& read);

// "" while `owner` may still watch `spec`'s targets; otherwise what changed
// ("pid 42 now runs as uid 0 (a setuid program?)"). Granted owners and root
// never lose it; a process that is gone is not this rule's business.
std::string lost_access(const Ownership& owner, const ContextSpec& spec, const CredsReader& read);

// The pids `spec` watches, in target order.
std::vector<uint32_t> watched_pids(const ContextSpec& spec);

}  // namespace damond
