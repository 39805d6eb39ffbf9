// `report --html FILE [CONTEXT...]`: one self-contained page (no scripts,
// nothing fetched) with damond's status and, for each context, its heatmap,
// access report and history — what an operator mails to a colleague.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "access_report.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "heatmap_command.hpp"
#include "history_plot.hpp"
#include "report.hpp"
#include "svg.hpp"

namespace damonctl {

using nlohmann::json;

namespace {

// `damonctl status` as it prints, for the page's first section.
std::string status_text() {
    std::ostringstream buf;
    std::streambuf* const old = std::cout.rdbuf(buf.rdbuf());
    try {
        Args none;
        cmd_status(none);
    } catch (...) {
        std::cout.rdbuf(old);
        throw;
    }
    std::cout.rdbuf(old);
    return buf.str();
}

std::string history_of(ContextProxy& ctx, const std::string& name) {
    const auto reply = call([&] { return ctx.History(); });
    std::vector<HistoryPoint> points;
    for (const auto& p : std::get<1>(reply)) points.push_back({p.get<0>(), p.get<1>(), p.get<2>(), p.get<3>()});
    return history_svg("history of " + name, std::get<0>(reply), points);
}

const char* kStyle = R"(body { font-family: sans-serif; margin: 2em; color: #202020; }
pre { background: #f4f4f4; padding: 1em; overflow-x: auto; font-size: 12px; }
section { margin-bottom: 3em; }
h2 { border-bottom: 1px solid #ccc; }
.note { color: #805000; })";

}  // namespace

int cmd_html_report(Args& a, const std::string& file) {
    HeatmapRequest req = heatmap_request(a);
    a.expect(0, "damonctl report --html FILE [CONTEXT...] [--for 10s] [--rows N] [--columns N] [--mode access|age]",
             true);
    Damond d;
    const std::string status = status_text();
    std::vector<std::string> names = a.words;
    if (names.empty())
        for (const auto& c : call([&] { return d.manager().ListContexts(); })) names.push_back(c.get<0>());
    std::vector<std::unique_ptr<ContextProxy>> proxies;
    std::vector<ContextProxy*> contexts;
    for (const std::string& n : names) {
        proxies.push_back(d.context(n));
        contexts.push_back(proxies.back().get());
    }
    const bool progress = isatty(STDERR_FILENO);
    if (progress)
        std::cerr << "damonctl: " << contexts.size() << " context(s) for " << human_duration_us(req.for_us) << '\n';
    std::vector<json> last;
    const auto maps = take_heatmaps(contexts, req, progress, &last, true);
    std::ostringstream page;
    page << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>damond report</title>\n"
         << "<style>\n"
         << kStyle << "\n</style>\n</head>\n<body>\n<h1>damond report</h1>\n"
         << "<section id=\"status\">\n<h2>status</h2>\n<pre>" << svg::escape(status) << "</pre>\n</section>\n";
    for (size_t i = 0; i < names.size(); ++i) {
        const std::string id = "context-" + std::to_string(i);
        page << "<section id=\"" << id << "\">\n<h2>context " << svg::escape(names[i]) << "</h2>\n";
        if (maps[i]) {
            page << "<h3>heatmap</h3>\n<div class=\"heatmap\">\n"
                 << render_svg(*maps[i], "damond context " + names[i]) << "</div>\n";
            const AccessReport r = access_report(last[i], scheme_actions(*contexts[i], last[i]));
            page << "<h3>access report</h3>\n<pre>" << svg::escape(report_text(names[i], r)) << "</pre>\n";
        } else {
            page << "<p class=\"note\">Its regions are not yours to read (as a process's /proc/PID/smaps): "
                    "no heatmap or access report.</p>\n";
        }
        page << "<h3>history</h3>\n<div class=\"history\">\n" << history_of(*contexts[i], names[i]) << "</div>\n";
        page << "</section>\n";
    }
    page << "</body>\n</html>\n";
    std::ofstream out(file);
    out << page.str();
    if (!out) throw Failure(kFailed, file + ": cannot write it");
    if (!a.json) std::cout << file << ": " << names.size() << " context(s)\n";
    return kOk;
}

}  // namespace damonctl
