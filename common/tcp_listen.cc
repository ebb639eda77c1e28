#include "common/tcp_listen.h"

#include "common/host_port.h"

namespace q {

bool ListenTcp(asio::ip::tcp::acceptor& acceptor, const std::string& address, int* port, std::string* local,
               std::string* error) {
  std::string host;
  int wanted = 0;
  if (!ParseHostPort(address, &host, &wanted)) {
    *error = "invalid TCP address \"" + address + "\" (want host:port)";
    return false;
  }
  std::error_code ec;
  asio::ip::tcp::resolver resolver(acceptor.get_executor());
  auto results = resolver.resolve(host, std::to_string(wanted), asio::ip::tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    *error = "cannot resolve " + host + ": " + ec.message();
    return false;
  }
  asio::ip::tcp::endpoint ep = results.begin()->endpoint();
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "listen (" + address + ") failed - " + ec.message();
    return false;
  }
  auto bound = acceptor.local_endpoint(ec);
  *port = bound.port();
  *local = JoinHostPort(bound.address().to_string(), *port);
  return true;
}

}  // namespace q
