// Opens a listening TCP acceptor on a "host:port" flag value, the way both daemons' -tcp-address
// works: the host is resolved, SO_REUSEADDR is set, port 0 picks a free port.
#pragma once
#include <asio.hpp>
#include <string>

namespace q {

// On success *port is the bound port and *local the bound "host:port" (for the log line tests
// read). False with *error ("listen (addr) failed - ...") otherwise.
bool ListenTcp(asio::ip::tcp::acceptor& acceptor, const std::string& address, int* port, std::string* local,
               std::string* error);

}  // namespace q
