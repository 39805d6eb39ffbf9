// What `report` and `report --html` share.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "cli.hpp"

namespace damonctl {

// The actions of the context's schemes, which a snapshot's stats leave out;
// asked of damond only when the snapshot has schemes.
std::vector<std::string> scheme_actions(ContextProxy& ctx, const nlohmann::json& snapshot);
// `report --html FILE [CONTEXT...]`.
int cmd_html_report(Args& a, const std::string& file);

}  // namespace damonctl
