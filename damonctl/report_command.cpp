// `report CONTEXT`: what one snapshot says about the context's memory, as
// damo's `report access` says it (text, or --json). With --html FILE, the
// one-page report instead (html_report.cpp).
#include <iostream>

#include <nlohmann/json.hpp>

#include "access_report.hpp"
#include "bus.hpp"
#include "commands.hpp"
#include "report.hpp"

namespace damonctl {

using nlohmann::json;

std::vector<std::string> scheme_actions(ContextProxy& ctx, const json& snapshot) {
    std::vector<std::string> actions;
    if (snapshot.value("schemes", json::array()).empty()) return actions;
    const json spec = json::parse(call([&] { return ctx.Spec(); }), nullptr, false);
    if (spec.is_object())
        for (const json& s : spec.value("schemes", json::array())) actions.push_back(s.value("action", "?"));
    return actions;
}

int cmd_report(Args& a) {
    const std::string html = a.option("html");
    if (!html.empty()) return cmd_html_report(a, html);
    a.expect(1, "damonctl report CONTEXT [--json] | damonctl report --html FILE [CONTEXT...] [--for 10s]");
    Damond d;
    auto ctx = d.context(a.words[0]);
    const json snap = json::parse(call([&] { return ctx->Snapshot(); }));
    const AccessReport r = access_report(snap, scheme_actions(*ctx, snap));
    if (a.json) {
        json out = report_json(r);
        out["context"] = a.words[0];
        std::cout << out.dump(2) << '\n';
    } else {
        std::cout << report_text(a.words[0], r);
    }
    return kOk;
}

}  // namespace damonctl
