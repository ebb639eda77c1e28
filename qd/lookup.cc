#include "qd/lookup.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/host_port.h"
#include "common/log.h"
#include "qd/lookup_peer.h"
#include "qd/options.h"

namespace q {

namespace {

std::string CommandLine(const char* verb, const std::string& topic, const std::string& channel) {
  std::string line = std::string(verb) + " " + topic;
  if (!channel.empty()) line += " " + channel;
  return line + "\n";
}

template <class Rep, class Period>
std::pair<time_t, time_t> SecUsec(std::chrono::duration<Rep, Period> d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return {static_cast<time_t>(us / 1000000), static_cast<time_t>(us % 1000000)};
}

}  // namespace

LookupClient::LookupClient(const Options& options)
    : ping_interval_(options.lookupd_ping_interval),
      http_connect_timeout_(options.http_client_connect_timeout),
      http_request_timeout_(options.http_client_request_timeout),
      max_reply_size_(static_cast<size_t>(options.max_body_size)),
      addresses_(options.lookupd_tcp_addresses) {}

LookupClient::~LookupClient() { Stop(); }

void LookupClient::Start(const Identity& identity) {
  nlohmann::json body = {{"version", Q_VERSION},
                         {"tcp_port", identity.tcp_port},
                         {"http_port", identity.http_port},
                         {"hostname", identity.hostname},
                         {"broadcast_address", identity.broadcast_address},
                         {"topology_zone", identity.topology_zone},
                         {"topology_region", identity.topology_region}};
  identify_body_ = body.dump();
  std::vector<std::string> addresses;
  {
    std::lock_guard lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
    addresses = addresses_;
  }
  work_.emplace(io_.get_executor());
  http_work_.emplace(http_io_.get_executor());
  asio::post(io_, [this, addresses = std::move(addresses)]() mutable { Apply(std::move(addresses)); });
  thread_ = std::thread([this] { io_.run(); });
  http_thread_ = std::thread([this] { http_io_.run(); });
}

void LookupClient::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (!started_) return;
  }
  // Closing every peer ends their coroutines; the loop then runs out of work and returns.
  asio::post(io_, [this] {
    for (auto& peer : peers_) peer->Close();
    peers_.clear();
    std::lock_guard lock(mu_);
    peers_snapshot_.clear();
  });
  work_.reset();
  if (thread_.joinable()) thread_.join();
  // A channel query in progress finishes within its HTTP timeouts; queued ones are dropped.
  http_work_.reset();
  http_io_.stop();
  if (http_thread_.joinable()) http_thread_.join();
  LOG_INFO("LOOKUP: closing");
}

void LookupClient::Register(const std::string& topic, const std::string& channel) {
  asio::post(io_, [this, topic, channel] {
    auto& channels = topics_[topic];
    if (!channel.empty()) channels.insert(channel);
    Broadcast(CommandLine("REGISTER", topic, channel));
  });
}

void LookupClient::Unregister(const std::string& topic, const std::string& channel) {
  asio::post(io_, [this, topic, channel] {
    if (channel.empty()) {
      topics_.erase(topic);
    } else if (auto it = topics_.find(topic); it != topics_.end()) {
      it->second.erase(channel);
    }
    Broadcast(CommandLine("UNREGISTER", topic, channel));
  });
}

void LookupClient::Broadcast(const std::string& line) {
  for (auto& peer : peers_) peer->Command(line);
}

std::vector<std::string> LookupClient::Snapshot() const {
  // A topic with channels is registered through them (REGISTER t c registers t as well).
  std::vector<std::string> lines;
  for (const auto& [topic, channels] : topics_) {
    if (channels.empty()) lines.push_back(CommandLine("REGISTER", topic, ""));
    for (const auto& channel : channels) lines.push_back(CommandLine("REGISTER", topic, channel));
  }
  return lines;
}

void LookupClient::SetAddresses(std::vector<std::string> addresses) {
  std::lock_guard lock(mu_);
  addresses_ = addresses;
  if (started_ && !stopped_) asio::post(io_, [this, addresses = std::move(addresses)]() mutable { Apply(std::move(addresses)); });
}

void LookupClient::Apply(std::vector<std::string> addresses) {
  std::vector<std::shared_ptr<LookupPeer>> kept;
  for (auto& peer : peers_) {
    if (std::find(addresses.begin(), addresses.end(), peer->address()) != addresses.end()) {
      kept.push_back(peer);
    } else {
      LOG_INFO("LOOKUP(", peer->address(), "): removing peer");
      peer->Close();
    }
  }
  peers_ = std::move(kept);
  for (const std::string& address : addresses) {
    bool known = std::any_of(peers_.begin(), peers_.end(), [&](auto& p) { return p->address() == address; });
    if (known) continue;
    LookupPeer::Settings settings;
    settings.ping_interval = ping_interval_;
    settings.max_reply_size = max_reply_size_;
    settings.identify_body = identify_body_;
    settings.snapshot = [this] { return Snapshot(); };
    auto peer = std::make_shared<LookupPeer>(io_, address, std::move(settings));
    peers_.push_back(peer);
    peer->Start();
  }
  std::lock_guard lock(mu_);
  peers_snapshot_ = peers_;
}

std::vector<std::string> LookupClient::Addresses() const {
  std::lock_guard lock(mu_);
  return addresses_;
}

std::vector<std::string> LookupClient::HttpAddresses() const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  for (const auto& peer : peers_snapshot_) {
    auto address = peer->http_address();
    if (address && std::find(out.begin(), out.end(), *address) == out.end()) out.push_back(*address);
  }
  return out;
}

void LookupClient::FetchChannels(const std::string& topic, std::function<void(std::vector<std::string>)> done) {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopped_) return;
  }
  std::vector<std::string> http_addresses = HttpAddresses();
  if (http_addresses.empty()) {
    if (!Addresses().empty())
      LOG_ERROR("no available qlookupd to query for channels to pre-create for topic ", topic);
    return;
  }
  asio::post(http_io_, [this, topic, http_addresses = std::move(http_addresses), done = std::move(done)] {
    std::vector<std::string> channels;
    for (const std::string& address : http_addresses) {
      for (std::string& c : QueryChannels(address, topic))
        if (std::find(channels.begin(), channels.end(), c) == channels.end()) channels.push_back(std::move(c));
    }
    done(std::move(channels));
  });
}

std::vector<std::string> LookupClient::QueryChannels(const std::string& http_address, const std::string& topic) {
  std::vector<std::string> out;
  std::string host;
  int port = 0;
  if (!ParseHostPort(http_address, &host, &port)) return out;
  httplib::Client client(host, port);
  auto [connect_sec, connect_usec] = SecUsec(http_connect_timeout_);
  auto [request_sec, request_usec] = SecUsec(http_request_timeout_);
  client.set_connection_timeout(connect_sec, connect_usec);
  client.set_read_timeout(request_sec, request_usec);
  client.set_write_timeout(request_sec, request_usec);
  std::string path = "/channels?topic=" + httplib::detail::encode_query_param(topic);
  auto res = client.Get(path.c_str(), {{"Accept", "application/vnd.nsq; version=1.0"}});
  if (!res) {
    LOG_ERROR("LOOKUPD(", http_address, "): GET ", path, " failed: ", httplib::to_string(res.error()));
    return out;
  }
  auto body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status != 200 || body.is_discarded() || !body.is_object()) {
    LOG_ERROR("LOOKUPD(", http_address, "): GET ", path, " -> ", res->status, " ", res->body);
    return out;
  }
  // nsqlookupd before 1.0 wrapped answers in {"status_code", "status_txt", "data"}.
  const nlohmann::json& data = body.contains("data") && body["data"].is_object() ? body["data"] : body;
  if (auto it = data.find("channels"); it != data.end() && it->is_array()) {
    for (const auto& c : *it)
      if (c.is_string()) out.push_back(c.get<std::string>());
  }
  return out;
}

}  // namespace q
