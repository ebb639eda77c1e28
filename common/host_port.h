// "host:port" addresses as Go's net.SplitHostPort / net.JoinHostPort treat them, for the
// listen flags and for the lookupd addresses qd dials. IPv6 hosts are written in brackets.
#pragma once
#include <string>
#include <string_view>

namespace q {

// Splits "host:port", "[v6]:port" or ":port" (host "0.0.0.0"). False if malformed or the
// port is outside 0..65535.
bool ParseHostPort(std::string_view address, std::string* host, int* port);

// "host:port", or "[host]:port" when host contains a ':'.
std::string JoinHostPort(std::string_view host, int port);

}  // namespace q
