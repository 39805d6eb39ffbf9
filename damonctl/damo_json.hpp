// damo's kdamonds JSON (what `damo args damon --format json` writes and
// `damo start --kdamonds` reads) to damond context specs and back. One
// context per kdamond, as the kernel allows. A field damond or the kernel
// cannot honour is refused by its path; none is dropped.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "damo_units.hpp"

namespace damonctl::damo {

enum class Units {
    Detect,  // a context is --raw output when its intervals.sample_us is a bare number
    Human,   // bare numbers in the field's unit, as damo reads them
    Raw,     // damo --raw output: the "exact" time fields in nanoseconds
};

struct ImportedContext {
    size_t kdamond = 0;
    nlohmann::json spec;  // damond's context spec
};

// Throws ValueError naming the path ("kdamonds[0].contexts[0]....").
std::vector<ImportedContext> import_kdamonds(const nlohmann::json& doc, Units units);

// A damond spec (canonical or not) as one kdamond; `notes` gets a line for
// each field damo has no place for that was left at a harmless value.
// Throws ValueError for specs damo cannot express (in-process sources).
nlohmann::json export_kdamond(const nlohmann::json& spec, bool raw, std::vector<std::string>& notes);

}  // namespace damonctl::damo
