#include "qd/stats.h"

#include <sstream>

namespace q {

using nlohmann::json;

namespace {
// nsqadmin dereferences this object unconditionally: it must never be null.
json E2eLatency(const E2eStats& e) {
  json percentiles = nullptr;
  if (!e.percentiles.empty()) {
    percentiles = json::array();
    for (auto& [q, v] : e.percentiles) percentiles.push_back({{"quantile", q}, {"value", v}});
  }
  return {{"count", e.count}, {"percentiles", percentiles}};
}
}  // namespace

json ToJson(const ClientStats& c, bool producer) {
  json j = {{"client_id", c.client_id},
            {"hostname", c.hostname},
            {"version", c.version},
            {"remote_address", c.remote_address},
            {"state", c.state},
            {"ready_count", c.ready_count},
            {"in_flight_count", c.in_flight_count},
            {"message_count", c.message_count},
            {"finish_count", c.finish_count},
            {"requeue_count", c.requeue_count},
            {"connect_ts", c.connect_ts},
            {"sample_rate", c.sample_rate},
            {"deflate", c.deflate},
            {"snappy", c.snappy},
            {"user_agent", c.user_agent},
            {"tls", c.tls},
            {"tls_cipher_suite", c.tls_cipher_suite},
            {"tls_version", c.tls_version},
            {"tls_negotiated_protocol", ""},
            {"tls_negotiated_protocol_is_mutual", c.tls_negotiated_protocol_is_mutual},
            {"topology_zone", c.topology_zone},
            {"topology_region", c.topology_region}};
  // Omitted unless set, as nsqd does.
  if (c.authed) {
    j["authed"] = true;
    if (!c.auth_identity.empty()) j["auth_identity"] = c.auth_identity;
    if (!c.auth_identity_url.empty()) j["auth_identity_url"] = c.auth_identity_url;
  }
  if (producer && !c.pub_counts.empty()) {
    json counts = json::array();
    for (const auto& [topic, count] : c.pub_counts) counts.push_back({{"topic", topic}, {"count", count}});
    j["pub_counts"] = counts;
  }
  return j;
}

json ToJson(const ChannelStats& c, bool include_clients) {
  json clients = nullptr;
  if (include_clients) {
    clients = json::array();
    for (const auto& cl : c.clients) clients.push_back(ToJson(cl, false));
  }
  return {{"channel_name", c.name},
          {"depth", c.depth},
          {"backend_depth", c.backend_depth},
          {"in_flight_count", c.in_flight_count},
          {"deferred_count", c.deferred_count},
          {"message_count", c.message_count},
          {"requeue_count", c.requeue_count},
          {"timeout_count", c.timeout_count},
          {"client_count", c.client_count},
          {"clients", clients},
          {"paused", c.paused},
          {"corrupt_records", c.corrupt_records},
          {"e2e_processing_latency", E2eLatency(c.e2e)}};
}

json ToJson(const TopicStats& t, bool include_clients) {
  json channels = json::array();
  for (const auto& c : t.channels) channels.push_back(ToJson(c, include_clients));
  return {{"topic_name", t.name},
          {"channels", channels},
          {"depth", t.depth},
          {"backend_depth", t.backend_depth},
          {"message_count", t.message_count},
          {"message_bytes", t.message_bytes},
          {"paused", t.paused},
          {"corrupt_records", t.corrupt_records},
          {"tx_pending", t.tx_pending},
          {"tx_committed", t.tx_committed},
          {"tx_rolled_back", t.tx_rolled_back},
          {"tx_expired", t.tx_expired},
          {"e2e_processing_latency", E2eLatency(t.e2e)}};
}

std::string ToText(const std::vector<TopicStats>& topics, const std::vector<ClientStats>& producers,
                   const std::string& version, const std::string& health, int64_t start_time) {
  std::ostringstream out;
  out << "qd v" << version << "\n";
  out << "start_time " << start_time << "\n";
  out << "Health: " << health << "\n\n";
  if (topics.empty()) out << "\nNO_TOPICS\n";
  for (const auto& t : topics) {
    out << "\n[" << t.name << "] depth: " << t.depth << " be-depth: " << t.backend_depth
        << " msgs: " << t.message_count << " e2e%: \n";
    for (const auto& c : t.channels) {
      out << "    [" << c.name << "] depth: " << c.depth << " be-depth: " << c.backend_depth
          << " inflt: " << c.in_flight_count << " def: " << c.deferred_count << " re-q: " << c.requeue_count
          << " timeout: " << c.timeout_count << " msgs: " << c.message_count << " e2e%: \n";
      for (const auto& cl : c.clients) {
        out << "        [V2 " << cl.client_id << "] state: " << cl.state << " inflt: " << cl.in_flight_count
            << " rdy: " << cl.ready_count << " fin: " << cl.finish_count << " re-q: " << cl.requeue_count
            << " msgs: " << cl.message_count << " connected: " << cl.connect_ts << "\n";
      }
    }
  }
  if (!producers.empty()) {
    out << "\nProducers:\n";
    for (const auto& p : producers) {
      out << "   [V2 " << p.client_id << "] msgs: ";
      int64_t total = 0;
      for (const auto& [topic, count] : p.pub_counts) total += count;
      out << total << " connected: " << p.connect_ts << "\n";
      for (const auto& [topic, count] : p.pub_counts) out << "      [" << topic << "] msgs: " << count << "\n";
    }
  }
  return out.str();
}

}  // namespace q
