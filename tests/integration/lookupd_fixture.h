// LookupdFixture: a gtest fixture owning one real qlookupd (lookupd_process.h), plus HTTP
// helpers shared by the lookupd and cluster tests.
//
// Promise: every test starts its own qlookupd on loopback port 0; at TearDown the fixture
// checks it is still alive and shuts down cleanly on SIGTERM, and prints its log if the test
// failed. Subclasses choose flags by overriding Flags().
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/lookupd_process.h"
#include "tests/integration/qd_fixture.h"
#include "tests/integration/v1_client.h"

namespace q::test {

// One HTTP exchange; status -1 if the request itself failed.
struct HttpReply {
  int status = -1;
  std::string body;
  std::string content_type;
  bool nsq_header = false;  // X-NSQ-Content-Type: nsq; version=1.0
  json Json() const { return json::parse(body, nullptr, /*allow_exceptions=*/false); }
};

inline HttpReply HttpCall(int port, const std::string& method, const std::string& path,
                          const std::string& body = "") {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(10, 0);
  cli.set_write_timeout(10, 0);
  httplib::Result res = method == "GET"    ? cli.Get(path.c_str())
                        : method == "POST" ? cli.Post(path.c_str(), body, "text/plain")
                        : method == "PUT"  ? cli.Put(path.c_str(), body, "application/json")
                                           : cli.Delete(path.c_str());
  HttpReply r;
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  r.content_type = res->get_header_value("Content-Type");
  r.nsq_header = res->get_header_value("X-NSQ-Content-Type") == "nsq; version=1.0";
  return r;
}

// tcp_port of every producer /lookup lists for topic on the lookupd at http_port, sorted;
// empty when the topic is unknown (404) or the call failed.
inline std::vector<int> LookupTcpPorts(int http_port, const std::string& topic) {
  HttpReply r = HttpCall(http_port, "GET", "/lookup?topic=" + QueryEscape(topic));
  std::vector<int> ports;
  json j = r.Json();
  if (r.status != 200 || !j.is_object() || !j["producers"].is_array()) return ports;
  for (const auto& p : j["producers"]) ports.push_back(p.value("tcp_port", 0));
  std::sort(ports.begin(), ports.end());
  return ports;
}

inline std::string Tail(std::string log, size_t max = 20000) {
  if (log.size() > max) log = "...(truncated)...\n" + log.substr(log.size() - max);
  return log;
}

class LookupdFixture : public ::testing::Test {
 protected:
  virtual std::vector<std::string> Flags() const { return {}; }

  void SetUp() override {
    lookupd_ = std::make_unique<LookupdProcess>(Flags());
    ASSERT_TRUE(lookupd_->Start()) << "qlookupd failed to start; log:\n" << lookupd_->log();
  }

  void TearDown() override {
    if (!lookupd_) return;
    bool alive = lookupd_->IsRunning();
    EXPECT_TRUE(alive) << "qlookupd is not running at the end of the test: " << lookupd_->ExitDescription();
    if (alive) {
      EXPECT_TRUE(lookupd_->Stop()) << "qlookupd did not shut down cleanly: " << lookupd_->ExitDescription();
    }
    if (HasFailure()) std::cerr << "======== qlookupd log ========\n" << Tail(lookupd_->log()) << "\n========\n";
    lookupd_.reset();
  }

  HttpReply Get(const std::string& path) { return HttpCall(lookupd_->http_port(), "GET", path); }
  HttpReply Post(const std::string& path) { return HttpCall(lookupd_->http_port(), "POST", path); }

  // A V1 connection that has sent the magic and identified as a qd with these ports.
  V1Client NewPeer(int qd_tcp_port = 4150, int qd_http_port = 4151) {
    V1Client c;
    EXPECT_TRUE(c.ConnectAsQd(lookupd_->tcp_port(), qd_tcp_port, qd_http_port)) << "IDENTIFY failed";
    return c;
  }

  std::unique_ptr<LookupdProcess> lookupd_;
};

}  // namespace q::test
