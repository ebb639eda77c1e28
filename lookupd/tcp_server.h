// qlookupd's TCP listener: accepts qd connections and runs protocol V1 on each (magic, then
// command lines; the IDENTIFY body is read here, the commands run in protocol_v1.cc).
// qlookupd never times a connection out; a connection ends when the peer closes it or
// after an error reply.
//
// Thread-safety: everything runs on the io_context passed in (one thread). Listen() and
// Start() are called before that thread runs or from it; Close() from any thread, once, and
// it returns after every connection has been closed and unregistered.
#pragma once
#include <asio.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>

namespace q::lookupd {

class ProtocolV1;

class TcpServer {
 public:
  explicit TcpServer(asio::io_context& io);
  ~TcpServer();

  // Binds host:port (port 0 picks a free one) without accepting yet. False with *error.
  bool Listen(const std::string& address, std::string* error);
  int port() const { return port_; }
  const std::string& local_address() const { return local_address_; }
  // Starts accepting; every connection runs its commands through protocol.
  void Start(ProtocolV1& protocol);
  // Stops accepting and closes every connection (each leaves the RegistrationDb). Blocks
  // until done when called from another thread than the io_context's.
  void Close();

 private:
  class Connection;
  void Accept();

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  ProtocolV1* protocol_ = nullptr;
  int port_ = 0;
  std::string local_address_;
  bool closed_ = false;
  std::function<void()> on_idle_;  // set by Close(): called when the last connection ended
  std::set<std::shared_ptr<Connection>> connections_;  // on the io thread only
};

}  // namespace q::lookupd
