// The manager owns every context: its spec, its monitor and its last error.
// It runs on the thread that owns all state; the D-Bus layer calls it and
// listens to it, and knows nothing the manager does not tell it.
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "manager/config.hpp"
#include "manager/op_worker.hpp"
#include "manager/pause_holds.hpp"
#include "errors.hpp"
#include "kernel/kernel_probe.hpp"
#include "monitor/monitor.hpp"

namespace damond {

enum class ContextField { State, Spec, LastError, Holds };

class ManagerListener {
public:
    virtual ~ManagerListener() = default;
    virtual void context_added(const std::string& name) = 0;
    virtual void context_removed(const std::string& name) = 0;
    virtual void context_changed(const std::string& name, const std::vector<ContextField>& fields) = 0;
    // A pause hold was taken or released (the manager-wide list changed).
    virtual void holds_changed() {}
};

struct ContextInfo {
    std::string name;
    MonitorState state;
};

// Builds the monitor for a validated spec; throws DamondError when the
// backend cannot run it.
using MonitorFactory = std::function<std::unique_ptr<Monitor>(const std::string& name, const ContextSpec&)>;
// Hands a piece of work to the manager's own thread.
using Poster = std::function<void(std::function<void()>)>;

class Manager {
public:
    // `post` carries monitor events (a target exited, ...) back to the
    // manager's thread.
    Manager(std::string backend, MonitorFactory factory, Poster post);
    ~Manager();

    const std::string& backend() const { return backend_; }
    const std::string& backend_reason() const { return backend_reason_; }
    void set_backend_reason(std::string reason) { backend_reason_ = std::move(reason); }
    // Shown after the backend in status_text(), e.g. the kernel's pause mode.
    void set_backend_detail(std::string detail) { backend_detail_ = std::move(detail); }
    // Looks at the kernel's DAMON tree afresh (stat and read only).
    void set_kernel_prober(std::function<KernelProbe()> prober) { kernel_prober_ = std::move(prober); }
    KernelProbe kernel_probe() const;
    void set_listener(ManagerListener* listener) { listener_ = listener; }
    // Called whenever a context is added, removed or changes: the moments
    // status_text() may change, so nobody has to poll it. `kept` is true
    // when what persistence keeps changed too (contexts, specs, holds), not
    // just a state or an error.
    using ChangeHook = std::function<void(bool kept)>;
    void set_change_hook(ChangeHook hook) { change_hook_ = std::move(hook); }

    // For callers that must not wait (the bus): a monitor that may block is
    // driven from the context's own worker thread and the call returns at
    // once; `done` runs on the manager's thread when the operation has
    // finished, with its error if any. One such operation per context at a
    // time (Busy otherwise). Other monitors finish before the call returns.
    using Done = std::function<void(std::exception_ptr)>;
    void pause_context_async(const std::string& name, Done done);
    void resume_context_async(const std::string& name, Done done);
    void commit_context_async(const std::string& name, const std::string& patch_json, Done done);

    // All of these throw DamondError; on error nothing has changed.
    void create_context(const std::string& name, const std::string& spec_json);
    void remove_context(const std::string& name);
    void pause_context(const std::string& name);
    void resume_context(const std::string& name);
    void commit_context(const std::string& name, const std::string& patch_json);

    // Pause holds. A context runs only when its spec says so and no hold
    // covers it; Pause/Resume/Commit and app switches change what the spec
    // says, holds change nothing but whether that can take effect. context
    // "" holds every context, those created later too. Throws
    // NoSuchContext, or InvalidArgument naming who/why; a hold on one
    // context whose monitor cannot pause is not kept.
    uint32_t hold_pause(const std::string& context, const std::string& who, const std::string& why,
                        const std::string& owner = "");
    // Throws NoSuchHold; with a context, also for a cookie of another hold.
    void release_pause(uint32_t cookie, const std::string* only_context = nullptr);
    // Releases every hold taken by that bus name; returns how many.
    size_t release_holds_of(const std::string& owner);
    std::vector<PauseHold> holds() const { return holds_.all(); }
    uint32_t next_hold_cookie() const { return holds_.next_cookie(); }
    // After a restart, before contexts are created: they start held.
    void restore_holds(const std::vector<PauseHold>& holds, uint32_t next_cookie);

    // For persistence: contexts created over the bus with their current spec
    // (pause wish included), and config contexts whose pause wish differs
    // from the config's.
    std::map<std::string, ContextSpec> runtime_contexts() const;
    std::map<std::string, bool> config_pause_wishes() const;
    // The context's checkpoint (see Monitor::checkpoint), "" if it has none
    // or an operation on it is under way.
    std::string checkpoint(const std::string& name) const;
    // While set, a context being created warm-starts from the checkpoint this
    // returns for its name ("" for none): for the contexts of a restart.
    void set_checkpoint_source(std::function<std::string(const std::string&)> source) {
        checkpoint_source_ = std::move(source);
    }
    std::vector<PauseHold> holds_on(const std::string& name) const { return holds_.covering(name); }

    bool has_context(const std::string& name) const { return contexts_.count(name) != 0; }
    std::vector<ContextInfo> list_contexts() const;
    MonitorState state(const std::string& name) const;
    std::string spec_json(const std::string& name) const;
    std::string last_error(const std::string& name) const;
    std::string access_source(const std::string& name) const;
    std::string access_source_reason(const std::string& name) const;
    std::string snapshot_json(const std::string& name) const;
    MonitorSnapshot snapshot(const std::string& name) const;

    // Brings the contexts the config names in line with it: new ones are
    // created, changed ones committed (keeping a runtime pause), dropped ones
    // removed. Contexts created over the bus are left alone. Returns the
    // errors met, one line each.
    std::vector<std::string> apply_config(const Config& config);

    // "3 contexts, 1 paused, backend kernel (watermarks)": for sd_notify STATUS=.
    std::string status_text() const;

    // `for_restart`: damond will come back and restore its state, so a
    // backend may leave its monitoring running to be adopted.
    void stop_all(bool for_restart = false);

private:
    struct ManagedContext {
        ContextSpec spec;
        std::unique_ptr<Monitor> monitor;
        std::string last_error;
        bool from_config = false;
        ContextSpec config_spec;  // as the config last said, to detect changes
        std::unique_ptr<OpWorker> worker;  // for blocking monitors
        bool op_in_progress = false;
        MonitorState state_before_op = MonitorState::Stopped;
        mutable MonitorSnapshot last_snapshot;  // answered while an operation runs
    };

    MonitorState current_state(const ManagedContext& ctx) const;
    void check_idle(const std::string& name) const;
    void run_async(const std::string& name, std::function<void(Monitor&)> op, std::function<void()> finish,
                   std::function<void(const DamondError&)> on_error, Done done);
    void finish_pause(const std::string& name, bool pause, MonitorState before);
    void finish_commit(const std::string& name, const ContextSpec& spec, MonitorState before);
    void commit_failed(const std::string& name, const DamondError& e);

    ManagedContext& get(const std::string& name);
    const ManagedContext& get(const std::string& name) const;
    void add(const std::string& name, const ContextSpec& spec, bool from_config);
    void set_pause(const std::string& name, bool pause);
    void commit_spec(const std::string& name, const ContextSpec& spec);
    void notify(const std::string& name, const std::vector<ContextField>& fields);
    // Brings the monitor in line with spec.pause and the holds.
    void reconcile(const std::string& name);
    void holds_changed_for(const PauseHold& hold);
    void monitor_event(const std::string& name);

    std::string backend_;
    std::string backend_reason_;
    std::string backend_detail_;
    std::function<KernelProbe()> kernel_prober_;
    MonitorFactory factory_;
    Poster post_;
    ManagerListener* listener_ = nullptr;
    ChangeHook change_hook_;
    void changed(bool kept) {
        if (change_hook_) change_hook_(kept);
    }
    std::map<std::string, ManagedContext> contexts_;
    PauseHolds holds_;
    std::function<std::string(const std::string&)> checkpoint_source_;
};

// Context names: 1..255 bytes, no control characters, no '/'.
void check_context_name(const std::string& name);

}  // namespace damond
