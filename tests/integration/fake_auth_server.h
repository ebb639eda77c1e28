// FakeAuthServer: an NSQ-style auth server (an httplib server in the test process, on
// loopback) for qd's --auth-http-address.
#pragma once
#include <atomic>
#include <string>
#include <thread>

#include "tests/integration/qd_fixture.h"

namespace q::test {

// Answers like an NSQ auth server: secret "good" may publish and subscribe on topics
// matching ^allowed; "nothing" gets no authorizations; anything else 403.
class FakeAuthServer {
 public:
  explicit FakeAuthServer(int ttl_seconds) : ttl_(ttl_seconds) {
    server_.Get("/auth", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      last_remote_ip_ = req.get_param_value("remote_ip");
      std::string secret = req.get_param_value("secret");
      if (secret == "good") {
        res.set_content(json{{"ttl", ttl_},
                             {"identity", "alice"},
                             {"identity_url", "http://example.test/alice"},
                             {"authorizations",
                              {{{"topic", "^allowed"}, {"channels", {".*"}}, {"permissions", {"subscribe", "publish"}}}}}}
                            .dump(),
                        "application/json");
      } else if (secret == "nothing") {
        res.set_content(json{{"ttl", ttl_}, {"authorizations", json::array()}}.dump(), "application/json");
      } else {
        res.status = 403;
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeAuthServer() { Stop(); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }
  std::string last_remote_ip() const { return last_remote_ip_; }

 private:
  int ttl_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::string last_remote_ip_;
};

}  // namespace q::test
