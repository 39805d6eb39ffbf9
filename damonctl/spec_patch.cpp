#include "spec_patch.hpp"

#include <algorithm>
#include <cctype>

#include "cli.hpp"

namespace damonctl {

using nlohmann::json;

bool is_assignment(const std::string& word) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    for (size_t i = 0; i < eq; ++i)
        if (!std::isalnum(static_cast<unsigned char>(word[i])) && word[i] != '_' && word[i] != '.') return false;
    return true;
}

json assign(json spec, const std::vector<std::string>& assignments) {
    for (const std::string& a : assignments) {
        if (!is_assignment(a)) throw Failure(kInvalid, "'" + a + "': not a key.path=value assignment");
        const size_t eq = a.find('=');
        const std::string path = a.substr(0, eq), text = a.substr(eq + 1);
        json value = json::parse(text, nullptr, false);
        if (value.is_discarded()) value = text;
        json* at = &spec;
        std::string walked;
        size_t pos = 0;
        while (true) {
            const size_t dot = path.find('.', pos);
            const std::string key = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
            if (key.empty()) throw Failure(kInvalid, path + ": an empty key");
            const std::string here = walked.empty() ? key : walked + "." + key;
            json* next = nullptr;
            if (at->is_array()) {
                if (!std::all_of(key.begin(), key.end(),
                                 [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
                    throw Failure(kInvalid, here + ": " + (walked.empty() ? std::string("this") : walked) +
                                                " is a list: index it with a number");
                const size_t i = std::stoul(key);
                if (i > at->size())
                    throw Failure(kInvalid, here + ": " + walked + " has " + std::to_string(at->size()) +
                                                " entries (add one at index " + std::to_string(at->size()) + ")");
                if (i == at->size()) at->push_back(json::object());
                next = &(*at)[i];
            } else if (at->is_object()) {
                next = &(*at)[key];
            } else {
                throw Failure(kInvalid, here + ": " + walked + " is not an object");
            }
            if (dot == std::string::npos) {
                *next = value;
                break;
            }
            if (next->is_null()) *next = json::object();
            at = next;
            walked = here;
            pos = dot + 1;
        }
    }
    return spec;
}

json merge_patch(const json& from, const json& to) {
    if (!from.is_object() || !to.is_object()) return to;
    json patch = json::object();
    for (const auto& [k, v] : to.items()) {
        auto it = from.find(k);
        if (it == from.end())
            patch[k] = v;
        else if (*it != v)
            patch[k] = (it->is_object() && v.is_object()) ? merge_patch(*it, v) : v;
    }
    for (const auto& [k, v] : from.items())
        if (!to.contains(k)) patch[k] = nullptr;
    return patch;
}

}  // namespace damonctl
