// Accepts V2 connections and spreads them over the shards round robin. The acceptor runs on
// shard 0; each accepted socket is created directly on its shard's io_context.
#pragma once
#include <asio.hpp>
#include <string>

namespace q {

class Qd;

class TcpServer {
 public:
  explicit TcpServer(Qd& qd);
  // Binds host:port (port 0 picks a free one). False with *error on failure.
  bool Listen(const std::string& address, std::string* error);
  int port() const { return port_; }
  std::string local_address() const { return local_address_; }
  // Stops accepting; existing connections are left alone. Call from any thread.
  void Close();

 private:
  void Accept();

  Qd& qd_;
  asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::string local_address_;
};


}  // namespace q
