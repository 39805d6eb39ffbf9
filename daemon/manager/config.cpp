#include "manager/config.hpp"

#include <fstream>
#include <sstream>

#include "spec/json_object_reader.hpp"
#include "spec/spec_json.hpp"

namespace damond {

Config config_from_json_text(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw SpecError("", std::string("not valid JSON: ") + e.what());
    }
    JsonObjectReader r(j, "");
    Config config;
    config.backend = r.string("backend", config.backend);
    if (config.backend != "auto" && config.backend != "inprocess" && config.backend != "kernel")
        throw SpecError("backend", "unknown backend '" + config.backend + "' (expected auto, inprocess or kernel)");
    config.damon_modules = r.string("damon_modules", config.damon_modules);
    if (config.damon_modules != "keep" && config.damon_modules != "disable")
        throw SpecError("damon_modules", "unknown value '" + config.damon_modules + "' (expected keep or disable)");
    if (const nlohmann::json* contexts = r.member("contexts")) {
        JsonObjectReader cr(*contexts, "contexts");
        for (const auto& item : contexts->items()) {
            cr.member(item.key());
            try {
                config.contexts.emplace(item.key(), spec_from_json(item.value()));
            } catch (const SpecError& e) {
                const std::string prefix = cr.path_of(item.key());
                throw SpecError(e.path().empty() ? prefix : prefix + "." + e.path(), e.rule());
            }
        }
    }
    r.reject_unknown_keys();
    return config;
}

Config load_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read config file " + path);
    std::stringstream buf;
    buf << in.rdbuf();
    return config_from_json_text(buf.str());
}

}  // namespace damond
