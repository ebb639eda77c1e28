#include "lookupd/lookupd.h"

#include <httplib.h>
#include <unistd.h>

#include <chrono>

#include "common/host_port.h"
#include "common/log.h"
#include "lookupd/http_api.h"
#include "lookupd/protocol_v1.h"
#include "lookupd/tcp_server.h"

namespace q::lookupd {

Lookupd::Lookupd(Options options)
    : options_(std::move(options)), db_(options_.inactive_producer_timeout, options_.tombstone_lifetime) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  hostname_ = host;
  broadcast_address_ = options_.broadcast_address.empty() ? hostname_ : options_.broadcast_address;
}

Lookupd::~Lookupd() { Stop(); }

bool Lookupd::Start(std::string* error) {
  LOG_INFO("qlookupd v", Q_VERSION, " (nsqlookupd-compatible)");
  tcp_server_ = std::make_unique<TcpServer>(io_);
  if (!tcp_server_->Listen(options_.tcp_address, error)) return false;
  tcp_port_ = tcp_server_->port();

  std::string host;
  int port;
  if (!ParseHostPort(options_.http_address, &host, &port)) {
    *error = "invalid HTTP address \"" + options_.http_address + "\" (want host:port)";
    return false;
  }
  http_server_ = std::make_unique<httplib::Server>();
  http_api_ = RegisterHttpApi(*http_server_, db_);
  int bound = port == 0 ? http_server_->bind_to_any_port(host) : (http_server_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    *error = "listen (" + options_.http_address + ") failed";
    return false;
  }
  http_port_ = bound;

  // The IDENTIFY reply tells each qd where this lookupd's HTTP API is (for channel
  // pre-creation), so it needs the bound ports.
  protocol_ = std::make_unique<ProtocolV1>(db_, LookupdIdentity{tcp_port_, http_port_, broadcast_address_, hostname_});
  tcp_server_->Start(*protocol_);
  work_.emplace(io_.get_executor());
  io_thread_ = std::thread([this] { io_.run(); });
  LOG_INFO("TCP: listening on ", tcp_server_->local_address());

  http_thread_ = std::thread([this] { http_server_->listen_after_bind(); });
  // httplib's stop() does nothing until the listen loop runs; a Stop() soon after Start()
  // would then wait forever for the thread. Start returns once the loop runs.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!http_server_->is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  LOG_INFO("HTTP: listening on ", JoinHostPort(host, http_port_));
  started_ = true;
  return true;
}

void Lookupd::Stop() {
  if (http_server_) {
    http_server_->stop();
    if (http_thread_.joinable()) http_thread_.join();
  }
  if (io_thread_.joinable()) {
    // Connections end first (unregistering their peers), then the loop runs dry.
    tcp_server_->Close();
    work_.reset();
    io_thread_.join();
  }
  if (started_) LOG_INFO("qlookupd: stopped");
  started_ = false;
}

}  // namespace q::lookupd
