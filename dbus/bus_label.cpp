#include "bus_label.hpp"

namespace damond {

namespace {

bool is_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

std::string bus_label_escape(const std::string& s) {
    if (s.empty()) return "_";
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (!is_alnum(c) || (i == 0 && c >= '0' && c <= '9')) {
            out += '_';
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::optional<std::string> bus_label_unescape(const std::string& label) {
    if (label == "_") return std::string();
    std::string out;
    for (size_t i = 0; i < label.size(); ++i) {
        if (label[i] != '_') {
            out += label[i];
            continue;
        }
        if (i + 2 >= label.size()) return std::nullopt;
        const int hi = hex_value(label[i + 1]), lo = hex_value(label[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::string context_object_path(const std::string& name) { return kContextPathPrefix + bus_label_escape(name); }

std::string app_object_path(const std::string& app_id) { return kAppPathPrefix + bus_label_escape(app_id); }

}  // namespace damond
