// Where contexts run: the kernel's DAMON or damond's own core. The words
// are those of the config, the --backend option and the bus.
#pragma once

#include <optional>
#include <string>

namespace damond {

enum class Backend { InProcess, Kernel };
// What the config asks for: auto takes the kernel when its DAMON is free.
enum class BackendChoice { Auto, InProcess, Kernel };

inline const char* to_string(Backend b) { return b == Backend::Kernel ? "kernel" : "inprocess"; }

inline const char* to_string(BackendChoice c) {
    switch (c) {
    case BackendChoice::Auto: return "auto";
    case BackendChoice::InProcess: return "inprocess";
    case BackendChoice::Kernel: return "kernel";
    }
    return "auto";
}

// nullopt for a word that is none of them.
inline std::optional<BackendChoice> backend_choice_from(const std::string& word) {
    if (word == "auto") return BackendChoice::Auto;
    if (word == "inprocess") return BackendChoice::InProcess;
    if (word == "kernel") return BackendChoice::Kernel;
    return std::nullopt;
}

}  // namespace damond
