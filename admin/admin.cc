#include "admin/admin.h"

#include <httplib.h>

#include "admin/http_api.h"
#include "common/host_port.h"
#include "common/log.h"

namespace q::admin {

Admin::Admin(Options options)
    : options_(std::move(options)),
      cluster_(options_.lookupd_http_addresses, options_.nsqd_http_addresses),
      notifier_(options_.notification_http_endpoint) {}

Admin::~Admin() { Stop(); }

bool Admin::Start(std::string* error) {
  std::string host;
  int port = 0;
  if (!ParseHostPort(options_.http_address, &host, &port)) {
    *error = "invalid HTTP address \"" + options_.http_address + "\" (want host:port)";
    return false;
  }
  http_server_ = std::make_unique<httplib::Server>();
  // An open page keeps a keep-alive connection, and httplib's stop() waits for it to idle
  // out: a short timeout keeps SIGTERM prompt (the page polls every 2 s anyway).
  http_server_->set_keep_alive_timeout(1);
  http_api_ = RegisterHttpApi(*http_server_, options_, cluster_, history_, notifier_);
  int bound = port == 0 ? http_server_->bind_to_any_port(host) : (http_server_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    *error = "listen (" + options_.http_address + ") failed";
    return false;
  }
  http_port_ = bound;
  started_ = true;
  http_thread_ = std::thread([this] { http_server_->listen_after_bind(); });
  // httplib's stop() does nothing until the listen loop runs; wait for it so Stop() works.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!http_server_->is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  sampler_ = std::thread([this] { SampleLoop(); });
  LOG_INFO("HTTP: listening on ", JoinHostPort(host, http_port_));
  for (const auto& a : options_.lookupd_http_addresses) LOG_INFO("using qlookupd at ", a);
  for (const auto& a : options_.nsqd_http_addresses) LOG_INFO("using qd at ", a);
  return true;
}

void Admin::Stop() {
  if (!started_) return;
  started_ = false;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
  http_server_->stop();
  if (http_thread_.joinable()) http_thread_.join();
}

void Admin::SampleLoop() {
  while (true) {
    Sample();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, kSampleInterval, [this] { return stopping_; })) return;
  }
}

void Admin::Sample() {
  ClusterStats s = cluster_.Stats();
  std::map<std::string, Totals> totals;
  Totals& cluster = totals[RateHistory::ClusterKey()];
  for (size_t i = 0; i < s.stats.size(); ++i) {
    const NodeReply& r = s.stats[i];
    if (!r.ok) continue;
    for (const json& t : r.body["topics"]) {
      std::string topic = t.value("topic_name", "");
      totals[RateHistory::TopicOnNodeKey(topic, s.nodes[i].address)].message_count =
          t.value("message_count", int64_t{0});
      Totals& tt = totals[RateHistory::TopicKey(topic)];
      tt.message_count += t.value("message_count", int64_t{0});
      tt.depth += t.value("depth", int64_t{0});
      cluster.message_count += t.value("message_count", int64_t{0});
      cluster.depth += t.value("depth", int64_t{0});
      for (const json& c : t["channels"]) {
        Totals& ct = totals[RateHistory::ChannelKey(topic, c.value("channel_name", ""))];
        ct.message_count += c.value("message_count", int64_t{0});
        ct.depth += c.value("depth", int64_t{0});
        // A topic with channels hands its messages on at once; its backlog is theirs.
        tt.depth += c.value("depth", int64_t{0});
        cluster.depth += c.value("depth", int64_t{0});
      }
    }
  }
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  history_.Record(now, totals);
}

}  // namespace q::admin
