// Lookupd: the qlookupd daemon. Owns the RegistrationDb, the TCP listener (protocol V1, one
// io_context thread) and the HTTP API (httplib's threads); starts them in order and stops
// them cleanly. Keeps nothing on disk: a restarted qlookupd is empty until each qd
// reconnects and registers again.
//
// Thread-safety: Start() and Stop() from one controlling thread (main or a test); the
// accessors from any thread once Start() returned.
#pragma once
#include <asio.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "lookupd/options.h"
#include "lookupd/registration_db.h"

namespace httplib {
class Server;
}

namespace q::lookupd {

class ProtocolV1;
class TcpServer;

class Lookupd {
 public:
  explicit Lookupd(Options options);
  ~Lookupd();
  Lookupd(const Lookupd&) = delete;
  Lookupd& operator=(const Lookupd&) = delete;

  // Binds both listeners and starts serving. False with *error if a listener cannot bind.
  bool Start(std::string* error);
  // Closes the listeners and every connection (their producers leave the db). Idempotent.
  void Stop();

  int tcp_port() const { return tcp_port_; }
  int http_port() const { return http_port_; }
  const std::string& hostname() const { return hostname_; }
  const std::string& broadcast_address() const { return broadcast_address_; }
  RegistrationDb& db() { return db_; }

 private:
  Options options_;
  std::string hostname_, broadcast_address_;
  RegistrationDb db_;

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  std::unique_ptr<TcpServer> tcp_server_;
  std::unique_ptr<ProtocolV1> protocol_;

  std::unique_ptr<httplib::Server> http_server_;
  std::shared_ptr<void> http_api_;
  std::thread http_thread_;

  int tcp_port_ = 0, http_port_ = 0;
  bool started_ = false;
};

}  // namespace q::lookupd
