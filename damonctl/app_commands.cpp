// `app list|show|register|foreground|background|unregister`.
#include <iostream>

#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "commands.hpp"
#include "format.hpp"

namespace damonctl {

using nlohmann::json;

namespace {

uint32_t parse_pid(const std::string& text) {
    try {
        size_t used = 0;
        const unsigned long v = std::stoul(text, &used);
        if (used == text.size() && v <= UINT32_MAX) return uint32_t(v);
    } catch (const std::exception&) {
    }
    throw Failure(kUsage, "--pid: '" + text + "' is not a process id");
}

const char* kAppUsage =
    "damonctl app list [--json]\n"
    "       damonctl app show APP [--json]\n"
    "       damonctl app register APP [--pid PID] [--foreground-profile P] [--background-profile P]\n"
    "       damonctl app foreground|background APP [--pid PID]\n"
    "       damonctl app unregister APP";

}  // namespace

int cmd_app(Args& a) {
    if (a.words.empty()) throw Failure(kUsage, std::string("usage: ") + kAppUsage);
    const std::string verb = a.words[0];
    a.words.erase(a.words.begin());
    if (verb == "list") {
        a.expect(0, "damonctl app list [--json]");
        Damond d;
        // Every app with its pids in one call, not one GetAll per app.
        const auto apps = call([&] { return d.manager().DescribeApps(); });
        const std::string fg = call([&] { return d.manager().ForegroundApp(); });
        json out = json::array();
        Table t({"APP", "STATE", "PIDS", "FOREGROUND CONTEXT", "BACKGROUND CONTEXT"});
        for (const auto& app : apps) {
            const std::vector<uint32_t>& pids = app.get<3>();
            out.push_back({{"app_id", app.get<0>()}, {"state", app.get<2>()}, {"pids", pids}});
            std::string pid_text;
            for (uint32_t pid : pids) pid_text += (pid_text.empty() ? "" : ",") + std::to_string(pid);
            t.add({app.get<0>(), app.get<2>(), pid_text.empty() ? "-" : pid_text, app.get<0>() + "@foreground",
                   app.get<0>() + "@background"});
        }
        if (a.json) {
            std::cout << out.dump(2) << '\n';
            return kOk;
        }
        t.print(std::cout);
        std::cout << "in the foreground: " << (fg.empty() ? "none" : fg) << '\n';
        return kOk;
    }
    if (verb == "show") {
        a.expect(1, "damonctl app show APP [--json]");
        Damond d;
        auto app = d.app(a.words[0]);
        const std::string state = call([&] { return app->State(); });
        const std::vector<uint32_t> pids = call([&] { return app->Pids(); });
        const bool reclaim = call([&] { return app->ReclaimEnabled(); });
        const uint64_t last = call([&] { return app->ReclaimedBytes(); });
        const uint64_t total = call([&] { return app->ReclaimedBytesTotal(); });
        const uint64_t at = call([&] { return app->LastReclaimUsec(); });
        const std::string outcome = call([&] { return app->LastReclaimOutcome(); });
        const uint64_t refaults = call([&] { return app->RefaultBytes(); });
        if (a.json) {
            std::cout << json{{"app_id", a.words[0]},
                              {"state", state},
                              {"pids", pids},
                              {"reclaim",
                               {{"enabled", reclaim},
                                {"last_bytes", last},
                                {"total_bytes", total},
                                {"last_usec", at},
                                {"last_outcome", outcome},
                                {"refault_bytes", refaults}}}}
                             .dump(2)
                      << '\n';
            return kOk;
        }
        std::string pid_text;
        for (uint32_t pid : pids) pid_text += (pid_text.empty() ? "" : ",") + std::to_string(pid);
        std::cout << a.words[0] << ": " << state << ", processes " << (pid_text.empty() ? "-" : pid_text) << '\n';
        std::cout << "reclaim: " << (reclaim ? "on" : "off") << '\n';
        if (at) {
            std::cout << "  last: " << human_size(last) << " (" << outcome << ")\n";
            std::cout << "  total: " << human_size(total) << '\n';
        } else if (!outcome.empty()) {
            std::cout << "  last: " << outcome << '\n';
        }
        std::cout << "  refaults after its last return: " << human_size(refaults) << '\n';
        return kOk;
    }
    if (verb == "register") {
        std::map<std::string, sdbus::Variant> options;
        const std::string pid = a.option("pid"), fg = a.option("foreground-profile"),
                          bg = a.option("background-profile");
        if (!fg.empty()) options["foreground_profile"] = sdbus::Variant(fg);
        if (!bg.empty()) options["background_profile"] = sdbus::Variant(bg);
        a.expect(1, "damonctl app register APP [--pid PID] [--foreground-profile P] [--background-profile P]");
        Damond d;
        call([&] { d.manager().RegisterApp(a.words[0], pid.empty() ? 0 : parse_pid(pid), options); });
        return kOk;
    }
    if (verb == "foreground" || verb == "background") {
        std::map<std::string, sdbus::Variant> options;
        if (const std::string pid = a.option("pid"); !pid.empty()) options["pid"] = sdbus::Variant(parse_pid(pid));
        a.expect(1, "damonctl app " + verb + " APP [--pid PID]");
        Damond d;
        call([&] { d.manager().SetAppState(a.words[0], verb, options); });
        return kOk;
    }
    if (verb == "unregister") {
        a.expect(1, "damonctl app unregister APP");
        Damond d;
        call([&] { d.manager().UnregisterApp(a.words[0]); });
        return kOk;
    }
    throw Failure(kUsage, "app: unknown verb '" + verb + "'\nusage: " + kAppUsage);
}

}  // namespace damonctl
