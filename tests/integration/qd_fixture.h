// QdFixture: a gtest fixture owning one real qd process (qd_process.h) plus helpers for
// raw TCP clients (test_client.h), HTTP calls and condition waits.
//
// Promise: every test starts its own qd with a fresh temp --data-path; at TearDown the
// fixture checks that qd is still alive (did not crash during the test) and that SIGTERM
// shuts it down cleanly (exit status 0), and prints qd's log if the test failed.
// Subclasses choose flags by overriding Flags().
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <climits>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/http_request.h"  // QueryEscape: '#' in ephemeral names would start a fragment
#include "tests/integration/qd_process.h"
#include "tests/integration/test_client.h"

namespace q::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Polls cond every `every` until it is true or timeout passed. Returns the last result.
inline bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                    std::chrono::milliseconds every = 20ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

// Finds an element of a JSON array whose `key` equals name; nullptr if absent.
inline const json* FindByName(const json& array, const char* key, const std::string& name) {
  if (!array.is_array()) return nullptr;
  for (const auto& e : array) {
    if (e.is_object() && e.contains(key) && e[key] == name) return &e;
  }
  return nullptr;
}

// j[key] as T, or def when j is not an object, lacks key, or holds another type. Stats
// helpers return null for a missing topic/channel; this keeps such checks failing as
// assertions instead of throwing.
template <class T>
T Val(const json& j, const char* key, T def) {
  if (!j.is_object() || !j.contains(key)) return def;
  try {
    return j[key].get<T>();
  } catch (const json::exception&) {
    return def;
  }
}
inline std::string Val(const json& j, const char* key, const char* def) {
  return Val<std::string>(j, key, def);
}

class QdFixture : public ::testing::Test {
 protected:
  // Extra qd flags for this fixture.
  virtual std::vector<std::string> Flags() const { return {}; }

  void SetUp() override {
    qd_ = std::make_unique<QdProcess>(Flags());
    ASSERT_TRUE(qd_->Start()) << "qd failed to start; log:\n" << qd_->log();
  }

  void TearDown() override {
    if (!qd_) return;
    if (qd_->pid() > 0) {
      bool alive = qd_->IsRunning();
      EXPECT_TRUE(alive) << "qd is not running at the end of the test: " << qd_->ExitDescription();
      if (alive) {
        EXPECT_TRUE(qd_->Stop()) << "qd did not shut down cleanly on SIGTERM: "
                                 << qd_->ExitDescription();
      }
    }
    if (HasFailure()) {
      std::string log = qd_->log();
      constexpr size_t kMax = 30000;
      if (log.size() > kMax) log = "...(truncated)...\n" + log.substr(log.size() - kMax);
      std::cerr << "======== qd log (" << qd_->data_path() << ") ========\n"
                << log << "\n======== end of qd log ========\n";
    }
    qd_.reset();
  }

  // A connected client that has sent the V2 magic (records a failure if it could not).
  TestClient NewClient() {
    TestClient c;
    EXPECT_TRUE(c.ConnectV2(qd_->tcp_port()))
        << "could not connect to qd TCP port " << qd_->tcp_port();
    return c;
  }

  // A client subscribed to topic/channel (SUB answered OK), RDY not yet sent.
  TestClient NewSubscriber(const std::string& topic, const std::string& channel) {
    TestClient c = NewClient();
    EXPECT_TRUE(IsOk(c.Sub(topic, channel))) << "SUB " << topic << " " << channel;
    return c;
  }

  httplib::Client Http() const {
    httplib::Client cli("127.0.0.1", qd_->http_port());
    cli.set_connection_timeout(5, 0);
    cli.set_read_timeout(10, 0);
    cli.set_write_timeout(10, 0);
    return cli;
  }

  // POST path (with query) with an optional body; nullptr-safe result.
  httplib::Result Post(const std::string& path, const std::string& body = "") {
    return Http().Post(path.c_str(), body, "application/octet-stream");
  }
  httplib::Result Get(const std::string& path) { return Http().Get(path.c_str()); }
  // POST that must answer 200; use with ASSERT_NO_FATAL_FAILURE.
  void PostOk(const std::string& path, const std::string& body = "") {
    auto r = Post(path, body);
    ASSERT_TRUE(r) << "POST " << path << " failed";
    ASSERT_EQ(r->status, 200) << "POST " << path << " -> " << r->body;
  }

  // GET /stats?format=json[&extra]; a null json if the request or parse failed (recorded).
  json Stats(const std::string& extra_query = "") {
    std::string path = "/stats?format=json";
    if (!extra_query.empty()) path += "&" + extra_query;
    auto res = Get(path);
    if (!res) {
      ADD_FAILURE() << "GET " << path << " failed: " << httplib::to_string(res.error());
      return json();
    }
    if (res->status != 200) {
      ADD_FAILURE() << "GET " << path << " -> " << res->status << " " << res->body;
      return json();
    }
    json j = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      ADD_FAILURE() << "GET " << path << " returned invalid JSON: " << res->body;
      return json();
    }
    return j;
  }

  // Stats of one topic / channel; a null json if it does not exist.
  json TopicStats(const std::string& topic) {
    json s = Stats("topic=" + QueryEscape(topic));
    if (!s.is_object() || !s.contains("topics")) return json();
    const json* t = FindByName(s["topics"], "topic_name", topic);
    return t ? *t : json();
  }
  json ChannelStats(const std::string& topic, const std::string& channel) {
    json t = TopicStats(topic);
    if (!t.is_object() || !t.contains("channels")) return json();
    const json* c = FindByName(t["channels"], "channel_name", channel);
    return c ? *c : json();
  }

  // Waits until the channel's stats field `key` equals value.
  bool WaitForChannelValue(const std::string& topic, const std::string& channel,
                           const std::string& key, int64_t value,
                           std::chrono::milliseconds timeout = 5s) {
    return WaitFor(
        [&] {
          json c = ChannelStats(topic, channel);
          return Val<int64_t>(c, key.c_str(), INT64_MIN) == value;
        },
        timeout);
  }
  bool WaitForTopicValue(const std::string& topic, const std::string& key, int64_t value,
                         std::chrono::milliseconds timeout = 5s) {
    return WaitFor(
        [&] {
          json t = TopicStats(topic);
          return Val<int64_t>(t, key.c_str(), INT64_MIN) == value;
        },
        timeout);
  }

  std::unique_ptr<QdProcess> qd_;
};

}  // namespace q::test
