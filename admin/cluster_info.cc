#include "admin/cluster_info.h"

#include <httplib.h>

#include <algorithm>
#include <future>
#include <map>

#include "common/host_port.h"

namespace q::admin {

namespace {

template <class Duration>
std::pair<time_t, time_t> SecUsec(Duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return {static_cast<time_t>(us / 1000000), static_cast<time_t>(us % 1000000)};
}

}  // namespace

json ErrorEntry(const NodeReply& reply, const std::string& role) {
  return {{"node", reply.address}, {"role", role}, {"error", reply.error}};
}

ClusterInfo::ClusterInfo(std::vector<std::string> lookupd_addresses, std::vector<std::string> qd_addresses)
    : lookupds_(std::move(lookupd_addresses)), qds_(std::move(qd_addresses)) {}

NodeReply ClusterInfo::Call(const std::string& address, const std::string& method, const std::string& path,
                            const std::string& body) {
  NodeReply r;
  r.address = address;
  std::string host;
  int port = 0;
  if (!ParseHostPort(address, &host, &port)) {
    r.error = "invalid address";
    return r;
  }
  httplib::Client cli(host, port);
  auto [cs, cu] = SecUsec(kConnectTimeout);
  auto [rs, ru] = SecUsec(kReadTimeout);
  cli.set_connection_timeout(cs, cu);
  cli.set_read_timeout(rs, ru);
  cli.set_write_timeout(rs, ru);
  httplib::Result res = method == "POST"     ? cli.Post(path, body, "application/json")
                        : method == "DELETE" ? cli.Delete(path)
                                             : cli.Get(path);
  if (!res) {
    r.error = httplib::to_string(res.error());
    return r;
  }
  r.status = res->status;
  r.body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (r.body.is_discarded()) r.body = nullptr;
  r.ok = res->status >= 200 && res->status < 300;
  if (!r.ok) {
    std::string message = r.body.is_object() ? r.body.value("message", "") : "";
    r.error = "HTTP " + std::to_string(res->status) + (message.empty() ? "" : " " + message);
  }
  return r;
}

std::vector<NodeReply> ClusterInfo::CallAll(const std::vector<std::string>& addresses, const std::string& method,
                                            const std::string& path) {
  std::vector<std::future<NodeReply>> pending;
  pending.reserve(addresses.size());
  for (const auto& a : addresses) pending.push_back(std::async(std::launch::async, [a, method, path] {
                                     return Call(a, method, path);
                                   }));
  std::vector<NodeReply> replies;
  replies.reserve(pending.size());
  for (auto& f : pending) replies.push_back(f.get());
  return replies;
}

std::vector<QdNode> ClusterInfo::Nodes(json* errors) const {
  std::map<std::string, QdNode> by_address;
  if (!lookupds_.empty()) {
    for (NodeReply r : CallAll(lookupds_, "GET", "/nodes")) {
      if (!r.ok || !r.body.is_object() || !r.body["producers"].is_array()) {
        if (r.ok) r.error = "unexpected /nodes answer";
        errors->push_back(ErrorEntry(r, "lookupd"));
        continue;
      }
      for (const json& p : r.body["producers"]) {
        QdNode n;
        n.broadcast_address = p.value("broadcast_address", "");
        n.http_port = p.value("http_port", 0);
        n.address = JoinHostPort(n.broadcast_address, n.http_port);
        QdNode& slot = by_address.try_emplace(n.address, n).first->second;
        slot.hostname = p.value("hostname", "");
        slot.version = p.value("version", "");
        slot.tcp_port = p.value("tcp_port", 0);
        const json& topics = p["topics"];
        const json& tombstones = p["tombstones"];
        for (size_t i = 0; topics.is_array() && i < topics.size(); ++i) {
          std::string t = topics[i].get<std::string>();
          if (std::find(slot.topics.begin(), slot.topics.end(), t) == slot.topics.end()) slot.topics.push_back(t);
          bool tomb = tombstones.is_array() && i < tombstones.size() && tombstones[i].is_boolean() &&
                      tombstones[i].get<bool>();
          if (tomb && std::find(slot.tombstoned.begin(), slot.tombstoned.end(), t) == slot.tombstoned.end())
            slot.tombstoned.push_back(t);
        }
      }
    }
  } else {
    for (const NodeReply& r : CallAll(qds_, "GET", "/info")) {
      QdNode n;
      n.address = r.address;
      std::string host;
      ParseHostPort(r.address, &host, &n.http_port);
      n.broadcast_address = host;
      if (r.ok && r.body.is_object()) {
        n.hostname = r.body.value("hostname", "");
        n.version = r.body.value("version", "");
        n.tcp_port = r.body.value("tcp_port", 0);
      }
      // An unreachable fixed node is still a node: its /stats call reports the error.
      by_address.emplace(n.address, n);
    }
  }
  std::vector<QdNode> nodes;
  for (auto& [address, n] : by_address) {
    std::sort(n.topics.begin(), n.topics.end());
    nodes.push_back(std::move(n));
  }
  return nodes;
}

std::vector<std::string> ClusterInfo::LookupdTopics() const {
  std::vector<std::string> topics;
  for (const NodeReply& r : CallAll(lookupds_, "GET", "/topics")) {
    if (!r.ok || !r.body.is_object() || !r.body["topics"].is_array()) continue;
    for (const json& t : r.body["topics"])
      if (t.is_string() && std::find(topics.begin(), topics.end(), t.get<std::string>()) == topics.end())
        topics.push_back(t.get<std::string>());
  }
  return topics;
}

ClusterStats ClusterInfo::Stats() const {
  ClusterStats s;
  s.nodes = Nodes(&s.errors);
  std::vector<std::string> addresses;
  for (const auto& n : s.nodes) addresses.push_back(n.address);
  s.stats = CallAll(addresses, "GET", "/stats?format=json");
  for (NodeReply& r : s.stats) {
    if (r.ok && !(r.body.is_object() && r.body["topics"].is_array())) {
      r.ok = false;
      r.error = "unexpected /stats answer";
    }
    if (!r.ok) s.errors.push_back(ErrorEntry(r, "qd"));
  }
  return s;
}

}  // namespace q::admin
