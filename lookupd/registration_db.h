// RegistrationDb: qlookupd's whole state, the directory of which qd ("producer") has which
// topic and channel (spec: lookupd.md §3, nsqlookupd/registration_db.go).
//
// A map from Registration{category, key, subkey} to the producers registered under it, keyed
// by peer id (the qd connection's "ip:port"). Categories: "client" ("", "") holds one entry
// per identified connection and feeds /nodes; "topic" (t, ""); "channel" (t, c).
// Keys outlive their producers: a topic stays listed after every qd left it, until
// /topic/delete; only "#ephemeral" keys are dropped when their last producer unregisters.
// Nothing expires in the background: an inactive producer (last PING older than
// --inactive-producer-timeout) is only filtered out of Lookup and Nodes, and a tombstoned one
// out of Lookup for --tombstone-lifetime; a producer is removed when its connection closes.
//
// Thread-safety: every method may be called from any thread. One std::shared_mutex guards
// the map (readers share it, as NSQ's RWMutex); PeerInfo::last_update is an atomic written
// by PING without the lock. Time is passed in (`now`, ns since the epoch) so tests need no
// clock. Owned by Lookupd; the TCP sessions hold shared_ptrs to their PeerInfo.
#pragma once
#include <atomic>
#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace q::lookupd {

// What a qd said about itself in IDENTIFY, plus where it connected from.
struct PeerInfo {
  std::string id;              // remote address "ip:port"; unique per connection
  std::string remote_address;  // same as id
  std::string hostname;
  std::string broadcast_address;
  int tcp_port = 0;
  int http_port = 0;
  std::string version;
  std::string topology_zone;
  std::string topology_region;
  std::atomic<int64_t> last_update{0};  // ns since the epoch; IDENTIFY and PING set it
};

struct Registration {
  std::string category;  // "client", "topic" or "channel"
  std::string key;       // topic
  std::string subkey;    // channel
  auto operator<=>(const Registration&) const = default;
};

inline constexpr std::string_view kClientCategory = "client";
inline constexpr std::string_view kTopicCategory = "topic";
inline constexpr std::string_view kChannelCategory = "channel";

// A copy of one producer entry as a query saw it.
struct ProducerView {
  std::shared_ptr<const PeerInfo> peer;
  bool tombstoned = false;
  int64_t tombstoned_at = 0;  // ns since the epoch
};

// One /nodes entry: topics this peer registered and, at the same index, whether it is
// tombstoned for that topic (nsqadmin indexes tombstones[i] for topics[i]).
struct NodeView {
  std::shared_ptr<const PeerInfo> peer;
  std::vector<std::string> topics;
  std::vector<bool> tombstones;
};

struct LookupResult {
  std::vector<std::string> channels;  // every channel key of the topic, unfiltered
  std::vector<std::shared_ptr<const PeerInfo>> producers;  // active and not tombstoned
};

class RegistrationDb {
 public:
  using Nanos = std::chrono::nanoseconds;

  RegistrationDb(Nanos inactive_producer_timeout, Nanos tombstone_lifetime);
  RegistrationDb(const RegistrationDb&) = delete;
  RegistrationDb& operator=(const RegistrationDb&) = delete;

  // --- TCP (V1) side ----------------------------------------------------------------------
  // IDENTIFY: adds the peer to the "client" registration.
  void AddClient(const std::shared_ptr<PeerInfo>& peer);
  // REGISTER t [c]: adds the peer to channel(t, c) when c is given, and to topic(t). An
  // existing entry is left as it is (a tombstone stays). Returns the registrations the peer
  // was newly added to.
  std::vector<Registration> Register(const std::shared_ptr<PeerInfo>& peer, const std::string& topic,
                                     const std::string& channel);
  // UNREGISTER t c: removes the peer from channel(t, c), deleting that key if it is now
  // empty and c is #ephemeral. UNREGISTER t (channel ""): removes the peer from every
  // channel(t, *) and from topic(t), deleting topic(t) if now empty and t is #ephemeral.
  // Returns the registrations the peer was removed from.
  std::vector<Registration> Unregister(const std::string& peer_id, const std::string& topic,
                                       const std::string& channel);
  // Connection closed: removes the peer from every registration (keys stay). Returns them.
  std::vector<Registration> RemovePeer(const std::string& peer_id);

  // --- HTTP side --------------------------------------------------------------------------
  std::vector<std::string> Topics() const;
  std::vector<std::string> Channels(const std::string& topic) const;
  // nullopt if there is no topic(t) key.
  std::optional<LookupResult> Lookup(const std::string& topic, int64_t now) const;
  // Identified peers whose last_update is within the inactive timeout.
  std::vector<NodeView> Nodes(int64_t now) const;
  void CreateTopic(const std::string& topic);
  // Removes topic(t) and every channel(t, *) key, with their producers.
  void DeleteTopic(const std::string& topic);
  // Adds channel(t, c) and topic(t) keys.
  void CreateChannel(const std::string& topic, const std::string& channel);
  // False if there was no channel(t, c) key.
  bool DeleteChannel(const std::string& topic, const std::string& channel);
  // Tombstones, in topic(t), every producer whose "broadcast_address:http_port" is node.
  // Returns how many matched.
  int TombstoneTopicProducer(const std::string& topic, const std::string& node, int64_t now);
  // Every registration with its producers, for /debug. Empty keys are included.
  std::map<Registration, std::vector<ProducerView>> Dump() const;

  // --- lower level, as registration_db.go (also used by tests) ------------------------------
  // Registrations matching category/key/subkey, where "*" in key or subkey matches anything.
  std::vector<Registration> FindRegistrations(std::string_view category, std::string_view key,
                                              std::string_view subkey) const;
  // Producers of every matching registration, each peer once.
  std::vector<ProducerView> FindProducers(std::string_view category, std::string_view key,
                                          std::string_view subkey) const;
  // Registrations the peer is in.
  std::vector<Registration> LookupRegistrations(const std::string& peer_id) const;

  Nanos inactive_producer_timeout() const { return inactive_producer_timeout_; }
  Nanos tombstone_lifetime() const { return tombstone_lifetime_; }

 private:
  struct Producer {
    std::shared_ptr<PeerInfo> peer;
    bool tombstoned = false;
    int64_t tombstoned_at = 0;
  };
  using ProducerMap = std::map<std::string, Producer>;  // peer id -> entry
  using Map = std::map<Registration, ProducerMap>;

  bool IsActive(const PeerInfo& peer, int64_t now) const;
  bool IsTombstoned(const Producer& p, int64_t now) const;
  static ProducerView View(const Producer& p);
  // Calls fn(registration, producers) for each key matching, under the caller's lock.
  template <class Fn>
  void ForEachMatch(const Map& map, std::string_view category, std::string_view key,
                    std::string_view subkey, Fn fn) const;
  bool AddProducerLocked(const Registration& r, const std::shared_ptr<PeerInfo>& peer);
  // Returns whether the peer was there and how many producers are left.
  std::pair<bool, size_t> RemoveProducerLocked(const Registration& r, const std::string& peer_id);

  const Nanos inactive_producer_timeout_;
  const Nanos tombstone_lifetime_;
  mutable std::shared_mutex mu_;
  Map map_;  // guarded by mu_
};

}  // namespace q::lookupd
