#include "common/duration.h"

#include <cstdint>
#include <limits>

namespace q {

namespace {
struct Unit {
  std::string_view name;
  uint64_t nanos;
};
constexpr Unit kUnits[] = {{"ns", 1},
                           {"us", 1000},
                           {"\xC2\xB5s", 1000},  // U+00B5 micro sign
                           {"\xCE\xBCs", 1000},  // U+03BC Greek mu
                           {"ms", 1000000},
                           {"s", 1000000000},
                           {"m", 60000000000},
                           {"h", 3600000000000}};

constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;  // |INT64_MIN|

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Integer part of one component; false on overflow.
bool LeadingInt(std::string_view& s, uint64_t* v) {
  *v = 0;
  while (!s.empty() && IsDigit(s[0])) {
    if (*v > (kMaxMagnitude - 1) / 10) return false;
    *v = *v * 10 + static_cast<uint64_t>(s[0] - '0');
    if (*v > kMaxMagnitude) return false;
    s.remove_prefix(1);
  }
  return true;
}

// Fraction digits as an integer and its scale (10^digits kept); digits past what fits are
// dropped, as Go does.
void LeadingFraction(std::string_view& s, uint64_t* f, double* scale) {
  *f = 0;
  *scale = 1;
  bool overflow = false;
  while (!s.empty() && IsDigit(s[0])) {
    uint64_t c = static_cast<uint64_t>(s[0] - '0');
    s.remove_prefix(1);
    if (overflow) continue;
    if (*f > (kMaxMagnitude - 1) / 10 || *f * 10 + c > kMaxMagnitude) {
      overflow = true;
      continue;
    }
    *f = *f * 10 + c;
    *scale *= 10;
  }
}
}  // namespace

// Go's time.ParseDuration algorithm, in unsigned integers as Go does it: exact to the
// nanosecond over the whole int64 range (floating point loses nanoseconds past ~104 days).
std::optional<Nanos> ParseGoDuration(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Nanos(0);
  if (s.empty()) return std::nullopt;
  uint64_t total = 0;
  while (!s.empty()) {
    if (s[0] != '.' && !IsDigit(s[0])) return std::nullopt;
    size_t before = s.size();
    uint64_t v;
    if (!LeadingInt(s, &v)) return std::nullopt;
    bool has_int = s.size() != before;
    uint64_t f = 0;
    double scale = 1;
    bool has_frac = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      before = s.size();
      LeadingFraction(s, &f, &scale);
      has_frac = s.size() != before;
    }
    if (!has_int && !has_frac) return std::nullopt;  // "." or ".s"
    size_t unit_len = 0;
    while (unit_len < s.size() && s[unit_len] != '.' && !IsDigit(s[unit_len])) ++unit_len;
    std::string_view name = s.substr(0, unit_len);
    s.remove_prefix(unit_len);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == name) unit = &u;
    }
    if (unit == nullptr) return std::nullopt;  // missing or unknown unit
    if (v > kMaxMagnitude / unit->nanos) return std::nullopt;
    v *= unit->nanos;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) *
                                 (static_cast<double>(unit->nanos) / scale));
      if (v > kMaxMagnitude) return std::nullopt;
    }
    total += v;
    if (total > kMaxMagnitude) return std::nullopt;
  }
  if (negative) return Nanos(static_cast<int64_t>(~total + 1));  // also right for 1<<63
  if (total > kMaxMagnitude - 1) return std::nullopt;
  return Nanos(static_cast<int64_t>(total));
}

std::string FormatGoDuration(Nanos d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  uint64_t u = n < 0 ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);
  auto frac = [](uint64_t v, uint64_t unit, const char* suffix) {
    std::string s = std::to_string(v / unit);
    uint64_t rem = v % unit;
    if (rem != 0) {
      std::string f;
      for (uint64_t div = unit / 10; div > 0; div /= 10) {
        f += static_cast<char>('0' + (rem / div) % 10);
      }
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s + suffix;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 1000, "\xC2\xB5s");
  if (u < 1000000000) return sign + frac(u, 1000000, "ms");
  std::string out;
  uint64_t hours = u / 3600000000000ULL;
  u %= 3600000000000ULL;
  uint64_t minutes = u / 60000000000ULL;
  u %= 60000000000ULL;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += frac(u, 1000000000ULL, "s");
  return sign + out;
}

}  // namespace q
