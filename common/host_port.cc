#include "common/host_port.h"

namespace q {

bool ParseHostPort(std::string_view address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = address.substr(0, colon);
  std::string_view p = address.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;  // an IPv6 host needs brackets, as in Go
  }
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos) return false;
  int v = 0;
  for (char c : p) v = v * 10 + (c - '0');
  if (v > 65535) return false;
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = v;
  return true;
}

std::string JoinHostPort(std::string_view host, int port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out = "[" + std::string(host) + "]";
  } else {
    out = std::string(host);
  }
  return out + ":" + std::to_string(port);
}

}  // namespace q
