// Qd: the daemon. Owns the shards, the topic registry, the TCP and HTTP listeners and the
// metadata file; starts them in order and shuts them down cleanly (every accepted message
// is on disk when Stop() returns).
//
// Thread-safety: the registry (GetOrCreateTopic, FindTopic, DeleteTopic, Topics) may be
// called from any thread; it is the only state behind a lock. Everything a topic holds is
// touched on the topic's shard (see shard.h).
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "qd/metadata.h"
#include "qd/options.h"
#include "qd/shard.h"
#include "qd/topic.h"
#include "qd/tx_producers.h"

namespace httplib {
class Server;
}
namespace asio::ssl {
class context;
}
typedef struct ssl_ctx_st SSL_CTX;

namespace q {

class TcpServer;
class StatsdReporter;
class LookupClient;

class Qd {
 public:
  explicit Qd(Options options);
  ~Qd();

  // Locks --data-path, loads metadata, starts shards, binds the listeners. False with
  // *error (already logged nothing) if any step fails.
  bool Start(std::string* error);
  // Clean shutdown; safe to call more than once.
  void Stop();

  const Options& options() const { return options_; }
  int tcp_port() const { return tcp_port_; }
  int http_port() const { return http_port_; }
  int https_port() const { return https_port_; }
  // The TLS configuration for IDENTIFY tls_v1; null when no cert/key is configured.
  SSL_CTX* tls_context() const;
  // --tls-required is true or tcp-https: TCP commands other than IDENTIFY need TLS first.
  bool tls_required_for_tcp() const { return options_.tls_required != "false"; }
  int64_t start_time() const { return start_time_; }
  const std::string& hostname() const { return hostname_; }
  const std::string& broadcast_address() const { return broadcast_address_; }
  uint16_t node_id() const { return node_id_; }

  // Topic registry. GetOrCreateTopic returns nullptr while shutting down.
  std::shared_ptr<Topic> GetOrCreateTopic(const std::string& name);
  std::shared_ptr<Topic> FindTopic(const std::string& name);
  // Removes the topic from the registry and deletes it on its shard. False if unknown.
  bool DeleteTopic(const std::string& name);
  std::vector<std::shared_ptr<Topic>> Topics();
  // Snapshots of the topics (sorted by name), each taken on its own shard. A channel filter
  // keeps only that channel and drops topics without it. Not from a shard thread.
  std::vector<TopicStats> CollectStats(const std::string& topic_filter = "", const std::string& channel_filter = "",
                                       bool include_clients = false);

  Shard& ShardFor(const std::string& topic_name);
  Shard& NextShard();
  std::vector<Shard*> shards();
  Metadata& metadata() { return metadata_; }
  // Registration with qlookupd; null before Start(). Thread-safe (see lookup.h).
  LookupClient* lookup() { return lookup_.get(); }

  // Called by topics and channels on their shard when the registry-visible state changes.
  void ChannelCreated(Topic& topic, Channel& channel);
  void ChannelDeleted(Topic& topic, const std::string& channel);

  // Health as /ping reports it: a failed disk write makes qd unhealthy until one succeeds.
  void SetDiskError(const std::string& error);
  void ClearDiskError();
  bool healthy() const { return healthy_.load(); }
  std::string Health() const;

  uint64_t NextClientId() { return next_client_id_.fetch_add(1) + 1; }
  // Threads for work that blocks (HTTP calls to an auth server), so shards never wait.
  asio::thread_pool& blocking() { return blocking_; }
  // Connections of transaction groups, for check-backs (thread-safe).
  TxProducers& tx_producers() { return tx_producers_; }
  bool auth_enabled() const { return !options_.auth_http_addresses.empty(); }
  bool stopping() const { return stopping_.load(); }

 private:
  bool LockDataPath(std::string* error);
  bool StartTls(std::string* error);
  // Binds server to address, serves it on *thread, logs "<name>: listening on <addr>".
  bool StartHttpListener(httplib::Server& server, const std::string& address, const char* name, int* port,
                         std::thread* thread, std::string* error);
  void LoadMetadata();
  void StartTimers();
  std::shared_ptr<Topic> CreateTopicLocked(const std::string& name);
  // Asks qlookupd for a new topic's channels and creates them on its shard (asynchronously).
  void PreCreateChannels(const std::shared_ptr<Topic>& topic);

  Options options_;
  std::string hostname_, broadcast_address_;
  uint16_t node_id_ = 0;
  int64_t start_time_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
  asio::thread_pool blocking_{2};
  TxProducers tx_producers_;
  std::vector<std::unique_ptr<Ticker>> tickers_;  // destroyed before the shards' io_contexts
  std::atomic<size_t> next_shard_{0};
  std::atomic<uint64_t> next_client_id_{0};

  std::mutex topics_mu_;
  std::map<std::string, std::shared_ptr<Topic>> topics_;

  Metadata metadata_;
  int lock_fd_ = -1;

  std::unique_ptr<LookupClient> lookup_;  // set in Start() before any other thread uses it
  std::unique_ptr<StatsdReporter> statsd_;
  std::unique_ptr<TcpServer> tcp_server_;
  std::unique_ptr<asio::ssl::context> tls_context_;
  std::unique_ptr<httplib::Server> http_server_, https_server_;
  std::shared_ptr<void> http_api_;
  std::thread http_thread_, https_thread_;
  int tcp_port_ = 0, http_port_ = 0, https_port_ = 0;

  std::atomic<bool> healthy_{true};
  mutable std::mutex health_mu_;
  std::string disk_error_;
  std::atomic<bool> started_{false}, stopping_{false};
};

}  // namespace q
