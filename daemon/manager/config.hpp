// The daemon's configuration file (JSON):
//   {"backend": "inprocess" | "auto" | "kernel",
//    "damon_modules": "keep" | "disable",
//    "contexts": {"<name>": <context spec>, ...}}
// damon_modules "disable" lets damond turn off a DAMON module (damon_stat,
// damon_reclaim, damon_lru_sort) that runs exclusively, for as long as it
// runs, so that it can have kdamonds of its own.
#pragma once

#include <map>
#include <string>

#include "spec/context_spec.hpp"
#include "spec/spec_error.hpp"

namespace damond {

struct Config {
    std::string backend = "auto";
    std::string damon_modules = "keep";
    std::map<std::string, ContextSpec> contexts;
};

// Throws SpecError naming the field (e.g. "contexts.demo.intervals.sample_us")
// or std::runtime_error when the file cannot be read.
Config load_config(const std::string& path);
Config config_from_json_text(const std::string& text);

}  // namespace damond
