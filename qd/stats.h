// Snapshots of topics, channels and clients for /stats, in the JSON shape nsqd gives and
// nsqadmin and nsq_stat read (spec: qd-http-api.md §4). Collected on each shard, rendered
// on the HTTP thread.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace q {

struct ClientStats {
  std::string client_id, hostname, version = "V2", remote_address, user_agent;
  int state = 0;
  int64_t ready_count = 0, in_flight_count = 0, message_count = 0, finish_count = 0,
          requeue_count = 0, connect_ts = 0;
  int sample_rate = 0;
  bool deflate = false, snappy = false, tls = false, authed = false;
  std::string tls_version, tls_cipher_suite;
  bool tls_negotiated_protocol_is_mutual = false;
  std::string auth_identity, auth_identity_url;
  std::string topology_zone, topology_region;
  std::map<std::string, int64_t> pub_counts;  // producers only
};

// e2e_processing_latency: how many samples, and (quantile, ns) pairs when
// --e2e-processing-latency-percentile is set (else null in JSON, as nsqd).
struct E2eStats {
  int64_t count = 0;
  std::vector<std::pair<double, int64_t>> percentiles;
};

struct ChannelStats {
  std::string name;
  int64_t depth = 0, backend_depth = 0, in_flight_count = 0, deferred_count = 0,
          message_count = 0, requeue_count = 0, timeout_count = 0, client_count = 0;
  bool paused = false;
  uint64_t corrupt_records = 0;
  E2eStats e2e;
  std::vector<ClientStats> clients;
};

struct TopicStats {
  std::string name;
  int64_t depth = 0, backend_depth = 0, message_count = 0, message_bytes = 0;
  bool paused = false;
  uint64_t corrupt_records = 0;
  // Half messages (docs/transactions.md): pending now; decided since the start.
  int64_t tx_pending = 0, tx_committed = 0, tx_rolled_back = 0, tx_expired = 0;
  E2eStats e2e;  // the channels' figures combined, weighted by their sample counts
  std::vector<ChannelStats> channels;
};

nlohmann::json ToJson(const ClientStats& c, bool producer);
nlohmann::json ToJson(const ChannelStats& c, bool include_clients);
nlohmann::json ToJson(const TopicStats& t, bool include_clients);

// The human-readable /stats (format=text), close to nsqd's layout.
std::string ToText(const std::vector<TopicStats>& topics, const std::vector<ClientStats>& producers,
                   const std::string& version, const std::string& health, int64_t start_time);

}  // namespace q
