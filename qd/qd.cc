#include "qd/qd.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <asio/ssl/context.hpp>

#include "common/crc32c.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/names.h"
#include "qd/client_v2.h"
#include "qd/http_api.h"
#include "qd/statsd.h"
#include "qd/lookup.h"
#include "qd/tcp_server.h"
#include "qd/tls_context.h"

namespace q {

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr auto kScanInterval = std::chrono::milliseconds(100);

}  // namespace

Qd::Qd(Options options) : options_(std::move(options)), metadata_(options_.data_path.empty() ? "." : options_.data_path) {
  if (options_.data_path.empty()) options_.data_path = std::filesystem::current_path().string();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  hostname_ = host;
  broadcast_address_ = options_.broadcast_address.empty() ? hostname_ : options_.broadcast_address;
  node_id_ = options_.node_id >= 0 ? static_cast<uint16_t>(options_.node_id)
                                   : static_cast<uint16_t>(crc32c::Value(hostname_.data(), hostname_.size()) % 1024);
  start_time_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  int n = options_.worker_threads > 0 ? options_.worker_threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  for (int i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>(i));
}

Qd::~Qd() { Stop(); }

bool Qd::LockDataPath(std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_path, ec);
  std::string path = options_.data_path + "/qd.lock";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    *error = "--data-path=" + options_.data_path + " is in use by another qd (" + path + " is locked)";
    ::close(lock_fd_);
    lock_fd_ = -1;
    return false;
  }
  return true;
}

bool Qd::Start(std::string* error) {
  if (!LockDataPath(error)) return false;
  LOG_INFO("qd v", Q_VERSION, " (nsqd-compatible), ID: ", node_id_, ", data path: ", options_.data_path,
           ", ", shards_.size(), " worker threads");
  for (auto& s : shards_) s->Start();
  // Created before the metadata loads so its topics reach the registration mirror; it
  // connects only once the listeners have their ports (IDENTIFY carries them).
  lookup_ = std::make_unique<LookupClient>(options_);
  LoadMetadata();
  StartTimers();

  if (!StartTls(error)) return false;
  tcp_server_ = std::make_unique<TcpServer>(*this);
  if (!tcp_server_->Listen(options_.tcp_address, error)) return false;
  tcp_port_ = tcp_server_->port();
  LOG_INFO("TCP: listening on ", tcp_server_->local_address());

  std::vector<httplib::Server*> api_servers;
  if (!options_.http_address.empty()) {
    http_server_ = std::make_unique<httplib::Server>();
    if (options_.tls_required == "true") {
      // Plain HTTP is refused as a whole; NSQ's clients retry on the port given here.
      http_server_->set_pre_routing_handler([this](const httplib::Request&, httplib::Response& res) {
        nlohmann::json body = {{"message", "TLS_REQUIRED"}, {"https_port", https_port_}};
        res.status = 403;
        res.set_header("X-NSQ-Content-Type", "nsq; version=1.0");
        res.set_content(body.dump(), "application/json; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
      });
    }
    api_servers.push_back(http_server_.get());
  }
  if (tls_context_ && !options_.https_address.empty()) {
    // httplib makes its own SSL_CTX; the same settings go into it.
    https_server_ = std::make_unique<httplib::SSLServer>([this](SSL_CTX& ctx) {
      std::string tls_error;
      if (ConfigureServerTls(&ctx, options_, &tls_error)) return true;
      LOG_ERROR("HTTPS: ", tls_error);
      return false;
    });
    if (!https_server_->is_valid()) {
      *error = "cannot set up HTTPS with the TLS configuration";
      return false;
    }
    api_servers.push_back(https_server_.get());
  }
  http_api_ = RegisterHttpApi(api_servers, *this);
  // HTTPS first, so that a TLS_REQUIRED answer on plain HTTP already names its port.
  if (https_server_ && !StartHttpListener(*https_server_, options_.https_address, "HTTPS", &https_port_,
                                          &https_thread_, error))
    return false;
  if (http_server_ &&
      !StartHttpListener(*http_server_, options_.http_address, "HTTP", &http_port_, &http_thread_, error))
    return false;
  lookup_->Start({options_.broadcast_tcp_port > 0 ? options_.broadcast_tcp_port : tcp_port_,
                  options_.broadcast_http_port > 0 ? options_.broadcast_http_port : http_port_, hostname_,
                  broadcast_address_, options_.topology_zone, options_.topology_region});
  if (!options_.statsd_address.empty()) {
    statsd_ = std::make_unique<StatsdReporter>(*this);
    if (!statsd_->Start(error)) return false;
  }
  started_ = true;
  return true;
}

bool Qd::StartTls(std::string* error) {
  if (!TlsConfigured(options_)) {
    if (options_.tls_required != "false") {
      *error = "cannot require TLS client connections without TLS key and cert";
      return false;
    }
    return true;
  }
  tls_context_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  if (!ConfigureServerTls(tls_context_->native_handle(), options_, error)) {
    tls_context_.reset();
    return false;
  }
  LOG_INFO("TLS: enabled, required: ", options_.tls_required, ", client certificates: ",
           options_.tls_client_auth_policy.empty() ? "not asked for" : options_.tls_client_auth_policy,
           ", min version: ", options_.tls_min_version);
  return true;
}

SSL_CTX* Qd::tls_context() const { return tls_context_ ? tls_context_->native_handle() : nullptr; }

bool Qd::StartHttpListener(httplib::Server& server, const std::string& address, const char* name, int* port,
                           std::thread* thread, std::string* error) {
  std::string host;
  int wanted;
  if (!ParseHostPort(address, &host, &wanted)) {
    *error = std::string("invalid ") + name + " address \"" + address + "\" (want host:port)";
    return false;
  }
  int bound = wanted == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, wanted) ? wanted : -1);
  if (bound < 0) {
    *error = "listen (" + address + ") failed";
    return false;
  }
  *port = bound;
  *thread = std::thread([&server] { server.listen_after_bind(); });
  // stop() before the server is accepting would be lost and Stop() would wait forever.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  LOG_INFO(name, ": listening on ", host.find(':') != std::string::npos ? "[" + host + "]" : host, ":", bound);
  return true;
}

void Qd::LoadMetadata() {
  std::vector<TopicMeta> topics;
  std::string error;
  if (!metadata_.Load(&topics, &error)) {
    LOG_ERROR("METADATA: ", error, " (starting without it)");
    return;
  }
  metadata_.Hold(true);
  for (const TopicMeta& tm : topics) {
    auto topic = GetOrCreateTopic(tm.name);
    if (!topic) continue;
    RunSync(topic->shard(), [&] {
      for (const ChannelMeta& cm : tm.channels) {
        Channel* ch = topic->GetOrCreateChannel(cm.name);
        if (ch && cm.paused) ch->SetPaused(true);
      }
      if (tm.paused) topic->SetPaused(true);
      return true;
    });
  }
  metadata_.Hold(false);
}

void Qd::StartTimers() {
  for (auto& s : shards_) {
    Shard* shard = s.get();
    tickers_.push_back(std::make_unique<Ticker>(shard->io(), kScanInterval, [shard] {
      int64_t now = NowNs();
      // Copy: a scan may delete an ephemeral topic.
      std::vector<Topic*> topics(shard->topics.begin(), shard->topics.end());
      for (Topic* t : topics)
        if (shard->topics.contains(t)) t->Scan(now);
    }));
    tickers_.push_back(std::make_unique<Ticker>(shard->io(), options_.sync_timeout, [shard] {
      std::vector<Topic*> topics(shard->topics.begin(), shard->topics.end());
      for (Topic* t : topics)
        if (shard->topics.contains(t)) t->SyncDisk();
    }));
  }
  for (auto& t : tickers_) t->Start();
}

void Qd::Stop() {
  if (!started_.exchange(false)) {
    for (auto& s : shards_) s->Stop();
    if (lock_fd_ >= 0) {
      ::close(lock_fd_);
      lock_fd_ = -1;
    }
    return;
  }
  stopping_ = true;
  LOG_INFO("qd: shutting down");
  // First, so no channel pre-creation lands on a shard that is closing. Connections to
  // qlookupd close without UNREGISTERs: lookupd drops a closed peer's registrations.
  if (lookup_) lookup_->Stop();
  if (statsd_) statsd_->Stop();
  if (tcp_server_) tcp_server_->Close();
  for (auto* server : {http_server_.get(), https_server_.get()}) {
    if (server) server->stop();
  }
  if (http_thread_.joinable()) http_thread_.join();
  if (https_thread_.joinable()) https_thread_.join();
  for (auto& s : shards_) {
    RunSync(*s, [shard = s.get()] {
      std::vector<ClientV2*> clients;
      for (auto& [id, c] : shard->clients) clients.push_back(c);
      for (ClientV2* c : clients) c->Close();
      return true;
    });
  }
  for (auto& topic : Topics()) RunSync(topic->shard(), [&] {
      topic->Close();
      return true;
    });
  std::string error;
  if (!metadata_.Save(&error)) LOG_ERROR("METADATA: ", error);
  for (auto& s : shards_) s->Stop();
  {
    std::lock_guard lock(topics_mu_);
    topics_.clear();
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  LOG_INFO("qd: stopped");
}

Shard& Qd::ShardFor(const std::string& topic_name) {
  return *shards_[std::hash<std::string>()(topic_name) % shards_.size()];
}

Shard& Qd::NextShard() { return *shards_[next_shard_.fetch_add(1) % shards_.size()]; }

std::vector<Shard*> Qd::shards() {
  std::vector<Shard*> out;
  for (auto& s : shards_) out.push_back(s.get());
  return out;
}

std::shared_ptr<Topic> Qd::GetOrCreateTopic(const std::string& name) {
  std::shared_ptr<Topic> topic;
  {
    std::lock_guard lock(topics_mu_);
    if (auto it = topics_.find(name); it != topics_.end()) return it->second;
    if (stopping_) return nullptr;
    Shard& shard = ShardFor(name);
    topic = std::make_shared<Topic>(this, &shard, name);
    topics_.emplace(name, topic);
    // Under the lock, so a REGISTER and the UNREGISTER of a racing delete keep their order.
    if (lookup_) lookup_->Register(name, "");
    // Posted under the lock: anyone who finds the topic posts after this, so Init runs first.
    asio::post(shard.io(), [topic] { topic->Init(); });
  }
  metadata_.TopicCreated(name);
  if (lookup_) PreCreateChannels(topic);
  return topic;
}

std::shared_ptr<Topic> Qd::FindTopic(const std::string& name) {
  std::lock_guard lock(topics_mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second;
}

bool Qd::DeleteTopic(const std::string& name) {
  std::shared_ptr<Topic> topic;
  {
    std::lock_guard lock(topics_mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return false;
    topic = it->second;
    topics_.erase(it);
    if (lookup_) lookup_->Unregister(name, "");
  }
  metadata_.TopicDeleted(name);
  asio::post(topic->shard().io(), [topic] { topic->Delete(); });
  return true;
}

std::vector<TopicStats> Qd::CollectStats(const std::string& topic_filter, const std::string& channel_filter,
                                         bool include_clients) {
  std::vector<std::shared_ptr<Topic>> topics;
  if (!topic_filter.empty()) {
    if (auto t = FindTopic(topic_filter)) topics.push_back(t);
  } else {
    topics = Topics();
  }
  std::vector<TopicStats> stats;
  for (auto& t : topics) {
    auto s = RunSync(t->shard(), [&] { return t->Stats(channel_filter, include_clients); });
    if (!s) continue;
    if (!channel_filter.empty() && s->channels.empty()) continue;
    stats.push_back(std::move(*s));
  }
  std::sort(stats.begin(), stats.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return stats;
}

std::vector<std::shared_ptr<Topic>> Qd::Topics() {
  std::lock_guard lock(topics_mu_);
  std::vector<std::shared_ptr<Topic>> out;
  for (auto& [n, t] : topics_) out.push_back(t);
  return out;
}

void Qd::ChannelCreated(Topic& topic, Channel& channel) {
  metadata_.ChannelCreated(topic.name(), channel.name());
  if (lookup_) lookup_->Register(topic.name(), channel.name());
}

void Qd::ChannelDeleted(Topic& topic, const std::string& channel) {
  if (!topic.exiting()) metadata_.ChannelDeleted(topic.name(), channel);
  // A deleted topic's channels go with its own UNREGISTER (sent by DeleteTopic).
  if (lookup_ && !topic.exiting()) lookup_->Unregister(topic.name(), channel);
}

void Qd::PreCreateChannels(const std::shared_ptr<Topic>& topic) {
  // Consumers elsewhere may already read channels of this topic: create them here too, so
  // the first messages published on this qd reach them (behaviour.md §9). nsqd blocks topic
  // creation on these HTTP requests; qd asks on the lookup client's thread instead, and the
  // messages published meanwhile wait in the topic's backlog, which the first channel drains.
  std::weak_ptr<Topic> weak = topic;
  lookup_->FetchChannels(topic->name(), [weak](std::vector<std::string> channels) {
    auto t = weak.lock();
    if (!t || channels.empty()) return;
    asio::post(t->shard().io(), [t, channels = std::move(channels)] {
      if (t->exiting()) return;
      for (const std::string& c : channels)
        if (IsValidChannelName(c) && !IsEphemeral(c)) t->GetOrCreateChannel(c);
    });
  });
}

void Qd::SetDiskError(const std::string& error) {
  std::lock_guard lock(health_mu_);
  disk_error_ = error;
  healthy_ = false;
}

void Qd::ClearDiskError() {
  if (healthy_.load()) return;
  std::lock_guard lock(health_mu_);
  disk_error_.clear();
  healthy_ = true;
}

std::string Qd::Health() const {
  if (healthy_.load()) return "OK";
  std::lock_guard lock(health_mu_);
  return "NOK - " + disk_error_;
}

}  // namespace q
