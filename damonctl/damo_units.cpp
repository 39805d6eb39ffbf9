#include "damo_units.hpp"

#include <cctype>
#include <cstdio>
#include <limits>
#include <vector>

namespace damonctl::damo {

using nlohmann::json;

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

using u128 = __uint128_t;
constexpr u128 kScale = 1000000000;  // numbers are held ×1e9: nine fraction digits, exact
constexpr u128 kU128Max = ~u128(0);

u128 mul_sat(u128 a, u128 b) { return b && a > kU128Max / b ? kU128Max : a * b; }
u128 add_sat(u128 a, u128 b) { return a > kU128Max - b ? kU128Max : a + b; }
uint64_t to_u64(u128 v) { return v > kMax ? kMax : uint64_t(v); }

// A number with optional thousands separators and fraction, ×1e9 (digits
// past the ninth fraction digit are dropped, as damo's int() would); false
// when it is not one.
bool parse_number(const std::string& raw, u128& out) {
    const std::string text = trim(raw);
    u128 whole = 0, frac = 0, frac_scale = kScale;
    bool dot = false, any = false;
    for (char c : text) {
        if (c == ',' && !dot) continue;
        if (c == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        any = true;
        if (!dot)
            whole = add_sat(mul_sat(whole, 10), u128(c - '0'));
        else if (frac_scale > 1)
            frac += u128(c - '0') * (frac_scale /= 10);
    }
    if (!any) return false;
    out = add_sat(mul_sat(whole, kScale), frac);
    return true;
}

std::string text_of(const json& v, const std::string& path) {
    if (v.is_string()) return trim(v.get<std::string>());
    if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
    if (v.is_number_integer()) {
        if (v.get<int64_t>() < 0) throw ValueError(path + ": must not be negative (" + v.dump() + ")");
        return std::to_string(v.get<int64_t>());
    }
    if (v.is_number_float()) {
        if (v.get<double>() < 0) throw ValueError(path + ": must not be negative (" + v.dump() + ")");
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.9f", v.get<double>());
        return buf;
    }
    throw ValueError(path + ": must be a number or a string with a unit, not " + std::string(v.type_name()));
}

// "min", "max" (the largest u64) or a bare number, ×1e9.
bool common(const std::string& t, u128& out) {
    if (t == "min") {
        out = 0;
        return true;
    }
    if (t == "max") {
        out = mul_sat(kMax, kScale);
        return true;
    }
    return parse_number(t, out);
}

}  // namespace

uint64_t parse_count(const json& v, const std::string& path) {
    u128 n = 0;
    if (!common(text_of(v, path), n)) throw ValueError(path + ": '" + text_of(v, path) + "' is not a number");
    return to_u64(n / kScale);
}

uint64_t parse_bytes(const json& v, const std::string& path) {
    const std::string t = text_of(v, path);
    u128 n = 0;
    if (common(t, n)) return to_u64(n / kScale);
    static const std::pair<const char*, unsigned> units[] = {
        {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"PiB", 50}, {"EiB", 60}, {"KB", 10},
        {"MB", 20},  {"GB", 30},  {"TB", 40},  {"PB", 50},  {"EB", 60},  {"K", 10},   {"M", 20},
        {"G", 30},   {"T", 40},   {"P", 50},   {"E", 60},   {"B", 0}};
    for (const auto& [unit, shift] : units) {
        const std::string u = unit;
        if (t.size() > u.size() && t.compare(t.size() - u.size(), u.size(), u) == 0 &&
            parse_number(t.substr(0, t.size() - u.size()), n))
            return to_u64(mul_sat(n, u128(1) << shift) / kScale);
    }
    throw ValueError(path + ": '" + t + "' is not a size (a number with B, K, KiB, M, MiB, ... or max)");
}

uint64_t parse_time(const json& v, const std::string& path, uint64_t unit_ns, uint64_t bare_ns) {
    const std::string t = text_of(v, path);
    u128 n = 0;
    if (t == "max") return kMax;
    if (common(t, n)) return to_u64(mul_sat(n, bare_ns) / (kScale * unit_ns));
    static const std::pair<const char*, uint64_t> units[] = {{"ns", 1},
                                                             {"us", 1000},
                                                             {"ms", 1000000},
                                                             {"s", 1000000000ULL},
                                                             {"m", 60000000000ULL},
                                                             {"h", 3600000000000ULL},
                                                             {"d", 86400000000000ULL}};
    // Tokens: numbers and units, as "1 m 30 s", "5ms", "1.5 s".
    std::vector<std::string> tokens;
    std::string cur;
    for (char c : t) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (!cur.empty()) tokens.push_back(cur), cur.clear();
        } else if (!cur.empty() && (std::isalpha(static_cast<unsigned char>(c)) != 0) !=
                                       (std::isalpha(static_cast<unsigned char>(cur.back())) != 0)) {
            tokens.push_back(cur), cur = std::string(1, c);
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) tokens.push_back(cur);
    if (tokens.empty() || tokens.size() % 2)
        throw ValueError(path + ": '" + t + "' is not a time (e.g. 5 ms, 1 m 30 s)");
    u128 total = 0;  // ns ×1e9
    for (size_t i = 0; i < tokens.size(); i += 2) {
        u128 x = 0;
        uint64_t per = 0;
        for (const auto& [unit, ns] : units)
            if (tokens[i + 1] == unit) per = ns;
        if (!parse_number(tokens[i], x) || !per)
            throw ValueError(path + ": '" + t + "' is not a time (units: ns, us, ms, s, m, h, d)");
        total = add_sat(total, mul_sat(x, per));
    }
    return to_u64(total / (kScale * unit_ns));
}

uint64_t parse_ratio(const json& v, const std::string& path, uint64_t per_one) {
    const std::string t = text_of(v, path);
    u128 n = 0;
    if (common(t, n)) return to_u64(n / kScale);
    if (!t.empty() && t.back() == '%' && parse_number(t.substr(0, t.size() - 1), n))
        return to_u64(mul_sat(n, per_one) / (kScale * 100));
    throw ValueError(path + ": '" + t + "' is not a ratio (N % or a number)");
}

bool parse_with_unit(const json& v, double& n, std::string& unit) {
    if (!v.is_string()) return false;
    const std::string t = trim(v.get<std::string>());
    const size_t sp = t.find_last_of(' ');
    u128 x = 0;
    if (!t.empty() && t.back() == '%' && parse_number(t.substr(0, t.size() - 1), x)) {
        n = double(x) / double(kScale), unit = "%";
        return true;
    }
    if (sp == std::string::npos || !parse_number(t.substr(0, sp), x)) return false;
    n = double(x) / double(kScale), unit = t.substr(sp + 1);
    return true;
}

bool parse_bool(const json& v, const std::string& path) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) {
        std::string t = trim(v.get<std::string>());
        for (char& c : t) c = char(std::tolower(static_cast<unsigned char>(c)));
        if (t == "y" || t == "yes" || t == "true") return true;
        if (t == "n" || t == "no" || t == "false") return false;
    }
    throw ValueError(path + ": must be true or false");
}

std::string format_count(uint64_t n) {
    const std::string d = std::to_string(n);
    std::string out;
    for (size_t i = 0; i < d.size(); ++i) {
        if (i && (d.size() - i) % 3 == 0) out += ',';
        out += d[i];
    }
    return out;
}

std::string format_time_us(uint64_t us) {
    if (us == kMax) return "max";
    if (us == 0) return "0 us";
    static const std::pair<const char*, uint64_t> units[] = {
        {"d", 86400000000ULL}, {"h", 3600000000ULL}, {"m", 60000000ULL}, {"s", 1000000}, {"ms", 1000}, {"us", 1}};
    std::string out;
    for (const auto& [unit, per] : units) {
        if (us >= per) {
            out += (out.empty() ? "" : " ") + format_count(us / per) + " " + unit;
            us %= per;
        }
    }
    return out;
}

std::string format_ratio(uint64_t value, uint64_t per_one) {
    // value / per_one × 100 %, exactly: per_one is 1000 or 10000.
    const uint64_t per_percent = per_one / 100;
    std::string out = format_count(value / per_percent);
    if (const uint64_t frac = value % per_percent) {
        std::string f = std::to_string(frac);
        const size_t width = std::to_string(per_percent).size() - 1;
        f = std::string(width - f.size(), '0') + f;
        while (!f.empty() && f.back() == '0') f.pop_back();
        out += "." + f;
    }
    return out + " %";
}

std::string decimal_times_pow10(uint64_t n, unsigned zeros) {
    if (n == 0) return "0";
    return std::to_string(n) + std::string(zeros, '0');
}

}  // namespace damonctl::damo
