// LookupClient: qd's side of discovery (spec: lookupd.md §2, nsqd/lookup.go). Holds one
// LookupPeer per --lookupd-tcp-address and a mirror of every topic and channel qd has, fed
// by Register/Unregister, which each peer replays after it (re)connects. Also asks the
// lookupds which channels a new topic has (behaviour.md §9, channel pre-creation).
//
// Threads: the peers run on the client's own io_context thread; FetchChannels' HTTP requests
// on a second thread, so a slow lookupd HTTP API never delays registrations. Every public
// method may be called from any thread: Register, Unregister and SetAddresses are posted to
// the client's thread in call order, so a caller that orders its calls (Qd does, under its
// topic lock or on the topic's shard) has them applied in that order. Owned by Qd.
#pragma once
#include <asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace q {

class LookupPeer;
struct Options;

class LookupClient {
 public:
  // What qd tells each lookupd in IDENTIFY.
  struct Identity {
    int tcp_port = 0;
    int http_port = 0;
    std::string hostname;
    std::string broadcast_address;
    std::string topology_zone;
    std::string topology_region;
  };

  explicit LookupClient(const Options& options);
  ~LookupClient();
  LookupClient(const LookupClient&) = delete;
  LookupClient& operator=(const LookupClient&) = delete;

  // Starts the threads and connects to the configured lookupds. Register/Unregister calls
  // made before are kept and replayed.
  void Start(const Identity& identity);
  // Closes every peer and joins the threads. Idempotent; later calls do nothing.
  void Stop();

  // Topic (channel "") or channel came into being / was deleted on this qd.
  void Register(const std::string& topic, const std::string& channel);
  void Unregister(const std::string& topic, const std::string& channel);
  // PUT /config/nsqlookupd_tcp_addresses: closes peers no longer listed, connects new ones.
  void SetAddresses(std::vector<std::string> addresses);
  std::vector<std::string> Addresses() const;
  // "host:port" of every lookupd HTTP API learned from IDENTIFY replies.
  std::vector<std::string> HttpAddresses() const;

  // Asks every known lookupd (GET /channels?topic=) for the topic's channels and calls done
  // with their union on the HTTP thread. done is not called when no lookupd HTTP address is
  // known yet or the client stopped first. Failures are logged and count as no channels.
  void FetchChannels(const std::string& topic, std::function<void(std::vector<std::string>)> done);

 private:
  void Apply(std::vector<std::string> addresses);  // on the client's thread
  std::vector<std::string> Snapshot() const;        // REGISTER lines, on the client's thread
  void Broadcast(const std::string& line);          // to every peer, on the client's thread
  std::vector<std::string> QueryChannels(const std::string& http_address, const std::string& topic);

  std::chrono::nanoseconds ping_interval_;
  std::chrono::nanoseconds http_connect_timeout_, http_request_timeout_;
  size_t max_reply_size_;
  std::string identify_body_;

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  asio::io_context http_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> http_work_;
  std::thread http_thread_;

  // On the client's thread only.
  std::map<std::string, std::set<std::string>> topics_;  // topic -> channels
  std::vector<std::shared_ptr<LookupPeer>> peers_;

  mutable std::mutex mu_;
  std::vector<std::string> addresses_;                      // guarded by mu_
  std::vector<std::shared_ptr<LookupPeer>> peers_snapshot_;  // guarded by mu_, for HttpAddresses
  bool started_ = false, stopped_ = false;                   // guarded by mu_
};

}  // namespace q
