#include "qd/tcp_server.h"

#include "common/log.h"
#include "qd/client_v2.h"
#include "qd/qd.h"
#include "qd/shard.h"

namespace q {

bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  std::string h = address.substr(0, colon);
  std::string p = address.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  int v = std::stoi(p);
  if (v > 65535) return false;
  *host = h.empty() ? "0.0.0.0" : h;
  *port = v;
  return true;
}

TcpServer::TcpServer(Qd& qd) : qd_(qd), acceptor_(qd.shards()[0]->io()) {}

bool TcpServer::Listen(const std::string& address, std::string* error) {
  std::string host;
  int port;
  if (!SplitHostPort(address, &host, &port)) {
    *error = "invalid TCP address \"" + address + "\" (want host:port)";
    return false;
  }
  std::error_code ec;
  asio::ip::tcp::resolver resolver(acceptor_.get_executor());
  auto results = resolver.resolve(host, std::to_string(port), asio::ip::tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    *error = "cannot resolve " + host + ": " + ec.message();
    return false;
  }
  asio::ip::tcp::endpoint ep = results.begin()->endpoint();
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "listen (" + address + ") failed - " + ec.message();
    return false;
  }
  auto local = acceptor_.local_endpoint(ec);
  port_ = local.port();
  local_address_ = (local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string()) +
                   ":" + std::to_string(port_);
  Accept();
  return true;
}

void TcpServer::Accept() {
  Shard& shard = qd_.NextShard();
  acceptor_.async_accept(shard.io(), [this, &shard](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      LOG_ERROR("TCP: accept error: ", ec.message());
    } else {
      auto client = std::make_shared<ClientV2>(qd_, shard, std::move(socket));
      asio::post(shard.io(), [client] { client->Start(); });
    }
    Accept();
  });
}

void TcpServer::Close() {
  RunSync(*qd_.shards()[0], [this] {
    std::error_code ec;
    acceptor_.close(ec);
    return true;
  });
}

}  // namespace q
