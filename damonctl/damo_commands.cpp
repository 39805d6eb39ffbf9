// `import-damo` and `export-damo`: damo's kdamonds JSON to contexts and
// back. An import creates every context or none.
#include <fstream>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "bus.hpp"
#include "commands.hpp"
#include "damo_json.hpp"
#include "spec/spec_error.hpp"
#include "spec/spec_json.hpp"

namespace damonctl {

using nlohmann::json;

namespace {

json read_json(const std::string& file) {
    json j = json::parse(read_input(file), nullptr, false);
    if (j.is_discarded()) throw Failure(kInvalid, file + ": not valid JSON");
    return j;
}

damo::Units units_from(Args& a) {
    const bool raw = a.flag("raw"), human = a.flag("human");
    if (raw && human) throw Failure(kUsage, "--raw and --human exclude each other");
    return raw ? damo::Units::Raw : human ? damo::Units::Human : damo::Units::Detect;
}

}  // namespace

int cmd_import_damo(Args& a) {
    const std::string prefix = a.option("name", "damo");
    const bool dry_run = a.flag("dry-run");
    const damo::Units units = units_from(a);
    a.expect(1, "damonctl import-damo FILE|- [--name PREFIX] [--dry-run] [--raw|--human] [--json]");
    std::vector<damo::ImportedContext> imported;
    try {
        imported = damo::import_kdamonds(read_json(a.words[0]), units);
    } catch (const damo::ValueError& e) {
        throw Failure(kInvalid, a.words[0] + ": " + e.what());
    } catch (const json::exception& e) {  // a shape no rule above expected
        throw Failure(kInvalid, a.words[0] + ": not damo's kdamonds JSON: " + e.what());
    }
    if (imported.empty()) throw Failure(kInvalid, a.words[0] + ": no kdamonds in it");
    // Named PREFIX, or PREFIX-K for kdamond K when there are several;
    // checked by damond's own spec rules before anything is created.
    std::vector<std::pair<std::string, std::string>> contexts;
    for (const auto& c : imported) {
        const std::string name = imported.size() == 1 ? prefix : prefix + "-" + std::to_string(c.kdamond);
        json canonical;
        try {
            canonical = damond::spec_to_json(damond::spec_from_json(c.spec));
        } catch (const damond::SpecError& e) {
            throw Failure(kInvalid, a.words[0] + ": kdamonds[" + std::to_string(c.kdamond) + "] as context '" + name +
                                        "': " + e.what());
        }
        contexts.emplace_back(name, canonical.dump());
    }
    if (dry_run) {
        json out = json::object();
        for (const auto& [name, spec] : contexts) out[name] = json::parse(spec);
        std::cout << out.dump(2) << '\n';
        return kOk;
    }
    Damond d;
    std::vector<std::string> created;
    for (const auto& context : contexts) {
        // Not a structured binding: clang 14 cannot capture those.
        const std::string& name = context.first;
        try {
            call([&] { d.manager().CreateContext(name, context.second); });
            created.push_back(name);
        } catch (const Failure& f) {
            for (const std::string& undo : created) {
                try {
                    call([&] { d.manager().RemoveContext(undo); });
                } catch (const Failure& g) {
                    std::cerr << "damonctl: removing '" << undo << "' again: " << g.what() << '\n';
                }
            }
            throw Failure(f.code(), "context '" + name + "': " + f.what() +
                                        (created.empty() ? "" : " (the contexts created before it were removed)"));
        }
    }
    if (a.json) {
        json out = json::array();
        for (const auto& name : created) out.push_back(name);
        std::cout << out.dump() << '\n';
    } else {
        for (const auto& name : created) std::cout << "created " << name << '\n';
    }
    return kOk;
}

int cmd_export_damo(Args& a) {
    const bool raw = a.flag("raw");
    const std::string spec_file = a.option("spec");
    std::vector<json> specs;
    std::vector<std::string> names;
    if (!spec_file.empty()) {
        a.expect(0, "damonctl export-damo --spec FILE|- [--raw]");
        specs.push_back(read_json(spec_file));
        names.push_back(spec_file);
    } else {
        Damond d;
        if (a.words.empty())
            for (const auto& c : call([&] { return d.manager().ListContexts(); })) a.words.push_back(c.get<0>());
        for (const std::string& name : a.words) {
            auto ctx = d.context(name);
            specs.push_back(json::parse(call([&] { return ctx->ReadSpec(); })));
            names.push_back(name);
        }
    }
    json kdamonds = json::array();
    for (size_t i = 0; i < specs.size(); ++i) {
        std::vector<std::string> notes;
        try {
            kdamonds.push_back(damo::export_kdamond(specs[i], raw, notes));
        } catch (const damo::ValueError& e) {
            throw Failure(kNotSupported, "context '" + names[i] + "': " + e.what());
        } catch (const json::exception& e) {
            throw Failure(kInvalid, names[i] + ": not a context spec: " + e.what());
        }
        for (const std::string& n : notes) std::cerr << "damonctl: context '" << names[i] << "': " << n << '\n';
    }
    std::cout << json{{"kdamonds", kdamonds}}.dump(4) << '\n';
    return kOk;
}

}  // namespace damonctl
