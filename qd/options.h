// qd's settings, named and defaulted as nsqd's flags are so that deployment scripts written
// for nsqd start qd unchanged (spec: qd-http-api.md §7).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"

namespace q {

using Nanos = std::chrono::nanoseconds;

struct Options {
  // listen
  std::string tcp_address = "0.0.0.0:4150";
  std::string http_address = "0.0.0.0:4151";
  std::string https_address = "0.0.0.0:4152";
  // identity
  int64_t node_id = -1;  // -1: derived from the hostname
  std::string broadcast_address;  // "": hostname
  int broadcast_tcp_port = 0;
  int broadcast_http_port = 0;
  // lookupd
  std::vector<std::string> lookupd_tcp_addresses;
  // Not an nsqd flag (nsqd pings every 15 s); tests shorten it to see re-registration fast.
  Nanos lookupd_ping_interval = std::chrono::seconds(15);
  Nanos http_client_connect_timeout = std::chrono::seconds(2);
  Nanos http_client_request_timeout = std::chrono::seconds(5);
  // storage
  std::string data_path;  // "": current directory
  int64_t mem_queue_size = 10000;
  int64_t max_bytes_per_file = 104857600;
  int64_t sync_every = 2500;
  Nanos sync_timeout = std::chrono::seconds(2);
  // messages
  Nanos msg_timeout = std::chrono::seconds(60);
  Nanos max_msg_timeout = std::chrono::minutes(15);
  int64_t max_msg_size = 1048576;
  int64_t max_body_size = 5242880;
  Nanos max_req_timeout = std::chrono::hours(1);
  // transactions (docs/transactions.md)
  Nanos tx_check_interval = std::chrono::seconds(60);
  int64_t tx_max_checks = 15;
  // clients
  int64_t max_rdy_count = 2500;
  Nanos max_heartbeat_interval = std::chrono::seconds(60);
  int64_t max_output_buffer_size = 65536;
  Nanos max_output_buffer_timeout = std::chrono::seconds(30);
  Nanos min_output_buffer_timeout = std::chrono::milliseconds(25);
  Nanos output_buffer_timeout = std::chrono::milliseconds(250);
  int64_t max_channel_consumers = 0;
  Nanos client_timeout = std::chrono::seconds(60);  // not a flag in nsqd either
  // scanning
  int64_t queue_scan_selection_count = 20;
  int64_t queue_scan_worker_pool_max = 4;
  // compression
  bool deflate = true;
  int64_t max_deflate_level = 6;
  bool snappy = true;
  // TLS
  std::string tls_cert, tls_key, tls_root_ca_file, tls_client_auth_policy;
  std::string tls_required = "false";
  std::string tls_min_version = "tls1.0";
  // qd only: /pub, /mpub and the admin endpoints need an X-NSQ-Auth-Secret the auth server grants.
  bool http_auth_required = false;
  // auth
  std::vector<std::string> auth_http_addresses;
  std::string auth_http_request_method = "get";
  // stats
  std::string statsd_address;
  std::string statsd_prefix = "nsq.%s";
  Nanos statsd_interval = std::chrono::seconds(60);
  bool statsd_mem_stats = true;
  int64_t statsd_udp_packet_size = 508;
  bool statsd_exclude_ephemeral = false;
  std::vector<double> e2e_processing_latency_percentiles;
  Nanos e2e_processing_latency_window_time = std::chrono::minutes(10);
  // misc
  LogLevel log_level = LogLevel::kInfo;
  std::string log_prefix = "[qd] ";
  std::vector<std::string> enable_experiments;
  std::string topology_region, topology_zone;
  // ours
  int worker_threads = 0;  // 0: one per core

  // Flags given that name features qd does not have yet; main() logs a warning per entry.
  std::vector<std::string> not_yet_supported;
};

struct ParseResult {
  std::optional<Options> options;  // empty when the process should exit
  int exit_code = 0;               // for --help/--version (0) or a bad flag (1)
  std::string message;             // printed by main: usage, version or the error
};

// Parses nsqd-style flags: "--name=value", "--name value" and Go's single-dash "-name=value";
// durations in Go syntax; --config names a TOML file of the same keys with '_' (flags win).
ParseResult ParseOptions(int argc, const char* const* argv);

}  // namespace q
