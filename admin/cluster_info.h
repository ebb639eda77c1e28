// ClusterInfo: what qadmin knows about the cluster, asked afresh on each call. It reads every
// qlookupd (or the fixed qd list) and every qd in parallel with short timeouts, so one dead
// node costs a page at most the timeout and shows up in `errors` instead of failing the call.
//
// Thread-safety: every method may be called from any thread at the same time; nothing is
// cached.
#pragma once
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace q::admin {

using nlohmann::json;

// One HTTP exchange with a daemon. ok is false when the node could not be reached or answered
// outside 2xx; error then says why in one line.
struct NodeReply {
  std::string address;  // "host:port"
  bool ok = false;
  int status = 0;
  json body;  // parsed JSON (null if the body was not JSON)
  std::string error;
};

// A qd as the cluster knows it. address is broadcast_address:http_port, the key nodes are
// named by in /api and in the page.
struct QdNode {
  std::string address;
  std::string broadcast_address, hostname, version;
  int tcp_port = 0, http_port = 0;
  std::vector<std::string> topics;       // as the lookupds list them
  std::vector<std::string> tombstoned;   // topics a lookupd tombstoned for this node
};

// Every qd's /stats, with the nodes that could not be read.
struct ClusterStats {
  std::vector<QdNode> nodes;
  std::vector<NodeReply> stats;  // one per node, same order; body is /stats?format=json
  json errors = json::array();   // [{"node","role","error"}] for every unreachable daemon
};

class ClusterInfo {
 public:
  ClusterInfo(std::vector<std::string> lookupd_addresses, std::vector<std::string> qd_addresses);

  static constexpr std::chrono::milliseconds kConnectTimeout{1000};
  static constexpr std::chrono::milliseconds kReadTimeout{3000};

  // Blocking HTTP calls. method is GET, POST or DELETE; path includes the query.
  static NodeReply Call(const std::string& address, const std::string& method, const std::string& path,
                        const std::string& body = "");
  // The same call to every address at once; replies in the order of addresses.
  static std::vector<NodeReply> CallAll(const std::vector<std::string>& addresses, const std::string& method,
                                        const std::string& path);

  const std::vector<std::string>& lookupd_addresses() const { return lookupds_; }
  bool has_lookupds() const { return !lookupds_.empty(); }

  // The qd nodes: the union of every lookupd's /nodes, or the fixed list (read via /info).
  // Unreachable daemons are appended to *errors.
  std::vector<QdNode> Nodes(json* errors) const;
  // Every topic some lookupd lists in /topics, including topics created there that no qd
  // has yet. Unreachable lookupds are skipped (Nodes() reports them).
  std::vector<std::string> LookupdTopics() const;
  // Nodes() then every node's /stats?format=json, in parallel.
  ClusterStats Stats() const;

 private:
  std::vector<std::string> lookupds_, qds_;
};

// An error entry for the "errors" arrays of /api answers.
json ErrorEntry(const NodeReply& reply, const std::string& role);

}  // namespace q::admin
