#include "admin/http_api.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>

#include "admin/assets.h"
#include "admin/cluster_info.h"
#include "admin/notifier.h"
#include "admin/options.h"
#include "admin/rate_history.h"
#include "common/http_router.h"
#include "common/log.h"
#include "common/names.h"

namespace q::admin {

namespace {

using http::Error;
using http::JsonOk;

std::vector<std::string> SplitPath(const std::string& rest) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t slash = rest.find('/', start);
    if (slash == std::string::npos) slash = rest.size();
    if (slash > start) parts.push_back(rest.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::string Query(const std::string& topic, const std::string& channel = "") {
  std::string q = "?topic=" + httplib::detail::encode_query_param(topic);
  if (!channel.empty()) q += "&channel=" + httplib::detail::encode_query_param(channel);
  return q;
}

int64_t I(const json& j, const char* key) { return j.is_object() ? j.value(key, int64_t{0}) : 0; }
bool B(const json& j, const char* key) { return j.is_object() && j.value(key, false); }

const json* FindNamed(const json& list, const char* key, const std::string& name) {
  if (!list.is_array()) return nullptr;
  for (const json& e : list)
    if (e.is_object() && e.value(key, "") == name) return &e;
  return nullptr;
}

// The counters a topic view adds up across nodes (tx_*: half messages, docs/transactions.md).
constexpr const char* kTopicCounters[] = {"depth",       "backend_depth", "message_count",  "message_bytes",
                                          "tx_pending", "tx_committed",  "tx_rolled_back", "tx_expired"};
void AddTopic(json& sum, const json& t) {
  for (const char* k : kTopicCounters) sum[k] = I(sum, k) + I(t, k);
}
void AddChannel(json& sum, const json& c) {
  for (const char* k : {"depth", "backend_depth", "in_flight_count", "deferred_count", "message_count",
                        "requeue_count", "timeout_count", "client_count"})
    sum[k] = I(sum, k) + I(c, k);
}

class Api {
 public:
  Api(const Options& options, const ClusterInfo& cluster, const RateHistory& history, Notifier& notifier)
      : options_(options), cluster_(cluster), history_(history), notifier_(notifier) {}

  void Register(httplib::Server& server) {
    const std::string& base = options_.base_path;
    auto page = [this](const httplib::Request&, const std::string&, httplib::Response& res) { Page(res); };
    router_.Route(base, {"GET", "HEAD"}, page);
    router_.Route(base + "index.html", {"GET", "HEAD"}, page);
    if (base != "/") {
      // "/admin" → "/admin/", so the page's relative links resolve under the base path.
      router_.Route(base.substr(0, base.size() - 1), {"GET", "HEAD"},
                    [base](const httplib::Request&, const std::string&, httplib::Response& res) {
                      res.status = 302;
                      res.set_header("Location", base);
                    });
    }
    router_.Route(base + "ping", {"GET", "HEAD"}, [](const httplib::Request&, const std::string&, httplib::Response& res) {
      res.status = 200;
      res.set_content("OK", "text/plain; charset=utf-8");
    });
    router_.RoutePrefix(base + "static/", [this, base](const httplib::Request& req, const std::string&,
                                                       httplib::Response& res) {
      const Asset* a = FindAsset(req.path.substr(base.size() + 7));
      if (!a || a->name == "index.html") return Error(res, 404, "NOT_FOUND");
      res.status = 200;
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(a->body), std::string(a->content_type));
    });
    router_.RoutePrefix(base + "api/", [this, base](const httplib::Request& req, const std::string& body,
                                                    httplib::Response& res) {
      ApiRequest(req, body, res, SplitPath(req.path.substr(base.size() + 4)));
    });
    router_.Install(server, 1 << 20, [](const httplib::Request&) { return "REQUEST_TOO_LARGE"; });
  }

 private:
  void Page(httplib::Response& res) {
    const Asset* a = FindAsset("index.html");
    std::string html(a->body);
    // The page learns the base path from the server, so every URL it builds is absolute.
    const std::string marker = "{{BASE_PATH}}";
    for (size_t at = html.find(marker); at != std::string::npos; at = html.find(marker, at))
      html.replace(at, marker.size(), options_.base_path);
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_content(html, std::string(a->content_type));
  }

  void ApiRequest(const httplib::Request& req, const std::string& body, httplib::Response& res,
                  const std::vector<std::string>& p) {
    const std::string& m = req.method;
    const bool read = m == "GET" || m == "HEAD";
    if (p.empty()) return Error(res, 404, "NOT_FOUND");
    if (p[0] == "topics" && p.size() <= 3) {
      if (p.size() >= 2 && !IsValidTopicName(p[1])) return Error(res, 400, "INVALID_TOPIC");
      if (p.size() == 3 && !IsValidChannelName(p[2])) return Error(res, 400, "INVALID_CHANNEL");
      if (read) {
        if (p.size() == 1) return Topics(res);
        if (p.size() == 2) return Topic(res, p[1]);
        return Channel(res, p[1], p[2]);
      }
      if (m != "POST" && m != "DELETE") return Error(res, 405, "METHOD_NOT_ALLOWED");
      if (!Allowed(req, res)) return;
      if (p.size() == 1) return m == "POST" ? Create(req, body, res) : Error(res, 405, "METHOD_NOT_ALLOWED");
      return TopicOrChannelAction(req, body, res, p[1], p.size() == 3 ? p[2] : "");
    }
    if (p[0] == "nodes" && p.size() <= 2) {
      if (read) return p.size() == 1 ? Nodes(res) : Node(res, p[1]);
      if (p.size() == 2 && (m == "DELETE" || m == "POST")) {
        if (!Allowed(req, res)) return;
        return Tombstone(req, body, res, p[1]);
      }
      return Error(res, 405, "METHOD_NOT_ALLOWED");
    }
    if (p[0] == "lookup" && p.size() == 1) {
      if (!read) return Error(res, 405, "METHOD_NOT_ALLOWED");
      return Lookup(res);
    }
    Error(res, 404, "NOT_FOUND");
  }

  // --- reads -------------------------------------------------------------------------------

  void Topics(httplib::Response& res) {
    ClusterStats s = cluster_.Stats();
    std::map<std::string, json> topics;
    for (size_t i = 0; i < s.stats.size(); ++i) {
      if (!s.stats[i].ok) continue;
      for (const json& t : s.stats[i].body["topics"]) {
        std::string name = t.value("topic_name", "");
        json& sum = topics[name];
        AddTopic(sum, t);
        sum["paused"] = B(sum, "paused") || B(t, "paused");
        sum["node_count"] = I(sum, "node_count") + 1;
        json& channels = sum["channels"];
        if (!channels.is_array()) channels = json::array();
        for (const json& c : t["channels"]) {
          std::string cn = c.value("channel_name", "");
          if (std::find(channels.begin(), channels.end(), cn) == channels.end()) channels.push_back(cn);
        }
      }
    }
    // Topics a lookupd knows but no reachable qd reports (e.g. created via qlookupd).
    for (const QdNode& n : s.nodes)
      for (const auto& t : n.topics) topics.try_emplace(t, json::object());
    for (const auto& t : cluster_.LookupdTopics()) topics.try_emplace(t, json::object());
    json list = json::array();
    int64_t depth = 0, messages = 0;
    for (auto& [name, t] : topics) {
      t["topic_name"] = name;
      for (const char* k : {"depth", "backend_depth", "message_count", "message_bytes", "node_count"})
        t[k] = I(t, k);
      if (!t["channels"].is_array()) t["channels"] = json::array();
      std::sort(t["channels"].begin(), t["channels"].end());
      t["paused"] = B(t, "paused");
      t["channel_count"] = t["channels"].size();
      t["rate"] = history_.LatestRate(RateHistory::TopicKey(name));
      depth += I(t, "depth");
      messages += I(t, "message_count");
      list.push_back(std::move(t));
    }
    JsonOk(res, {{"topics", list},
                 {"depth", depth},
                 {"message_count", messages},
                 {"rate", history_.LatestRate(RateHistory::ClusterKey())},
                 {"history", history_.Series(RateHistory::ClusterKey())},
                 {"node_count", s.nodes.size()},
                 {"errors", s.errors}});
  }

  void Topic(httplib::Response& res, const std::string& topic) {
    ClusterStats s = cluster_.Stats();
    json sum = {{"topic_name", topic}, {"paused", false}};
    AddTopic(sum, json::object());
    json nodes = json::array();
    std::map<std::string, json> channels;
    bool known = false;
    for (size_t i = 0; i < s.stats.size(); ++i) {
      if (!s.stats[i].ok) continue;
      const json* t = FindNamed(s.stats[i].body["topics"], "topic_name", topic);
      if (!t) continue;
      known = true;
      AddTopic(sum, *t);
      sum["paused"] = B(sum, "paused") || B(*t, "paused");
      nodes.push_back({{"node", s.nodes[i].address},
                       {"hostname", s.nodes[i].hostname},
                       {"depth", I(*t, "depth")},
                       {"backend_depth", I(*t, "backend_depth")},
                       {"message_count", I(*t, "message_count")},
                       {"rate", history_.LatestRate(RateHistory::TopicOnNodeKey(topic, s.nodes[i].address))},
                       {"channel_count", (*t)["channels"].size()},
                       {"paused", B(*t, "paused")}});
      for (const char* k : {"tx_pending", "tx_committed", "tx_rolled_back", "tx_expired"}) nodes.back()[k] = I(*t, k);
      for (const json& c : (*t)["channels"]) {
        std::string cn = c.value("channel_name", "");
        json& cs = channels[cn];
        AddChannel(cs, c);
        cs["paused"] = B(cs, "paused") || B(c, "paused");
        cs["node_count"] = I(cs, "node_count") + 1;
      }
    }
    for (const QdNode& n : s.nodes)
      known = known || std::find(n.topics.begin(), n.topics.end(), topic) != n.topics.end();
    if (!known) {
      auto listed = cluster_.LookupdTopics();
      known = std::find(listed.begin(), listed.end(), topic) != listed.end();
    }
    if (!known && s.errors.empty()) return Error(res, 404, "TOPIC_NOT_FOUND");
    json channel_list = json::array();
    for (auto& [name, c] : channels) {
      c["channel_name"] = name;
      c["rate"] = history_.LatestRate(RateHistory::ChannelKey(topic, name));
      channel_list.push_back(std::move(c));
    }
    sum["nodes"] = nodes;
    sum["channels"] = channel_list;
    sum["rate"] = history_.LatestRate(RateHistory::TopicKey(topic));
    sum["history"] = history_.Series(RateHistory::TopicKey(topic));
    sum["errors"] = s.errors;
    JsonOk(res, sum);
  }

  void Channel(httplib::Response& res, const std::string& topic, const std::string& channel) {
    ClusterStats s = cluster_.Stats();
    json sum = {{"topic_name", topic}, {"channel_name", channel}, {"paused", false}};
    AddChannel(sum, json::object());
    json nodes = json::array(), clients = json::array();
    bool known = false;
    for (size_t i = 0; i < s.stats.size(); ++i) {
      if (!s.stats[i].ok) continue;
      const json* t = FindNamed(s.stats[i].body["topics"], "topic_name", topic);
      const json* c = t ? FindNamed((*t)["channels"], "channel_name", channel) : nullptr;
      if (!c) continue;
      known = true;
      AddChannel(sum, *c);
      sum["paused"] = B(sum, "paused") || B(*c, "paused");
      json node = {{"node", s.nodes[i].address}, {"hostname", s.nodes[i].hostname}, {"paused", B(*c, "paused")}};
      AddChannel(node, *c);
      nodes.push_back(std::move(node));
      for (const json& cl : (*c)["clients"]) {
        json client = cl;
        client["node"] = s.nodes[i].address;
        clients.push_back(std::move(client));
      }
    }
    if (!known && s.errors.empty()) return Error(res, 404, "CHANNEL_NOT_FOUND");
    sum["nodes"] = nodes;
    sum["clients"] = clients;
    sum["rate"] = history_.LatestRate(RateHistory::ChannelKey(topic, channel));
    sum["history"] = history_.Series(RateHistory::ChannelKey(topic, channel));
    sum["errors"] = s.errors;
    JsonOk(res, sum);
  }

  json NodeJson(const QdNode& n, const NodeReply& stats) {
    json topics = json::array();
    int64_t depth = 0, messages = 0, clients = 0;
    if (stats.ok) {
      for (const json& t : stats.body["topics"]) {
        topics.push_back(t.value("topic_name", ""));
        depth += I(t, "depth");
        messages += I(t, "message_count");
        for (const json& c : t["channels"]) clients += I(c, "client_count");
      }
    } else {
      for (const auto& t : n.topics) topics.push_back(t);
    }
    std::sort(topics.begin(), topics.end());
    return {{"address", n.address},
            {"broadcast_address", n.broadcast_address},
            {"hostname", n.hostname},
            {"version", stats.ok ? stats.body.value("version", n.version) : n.version},
            {"tcp_port", n.tcp_port},
            {"http_port", n.http_port},
            {"reachable", stats.ok},
            {"error", stats.error},
            {"health", stats.ok ? stats.body.value("health", "") : ""},
            {"start_time", I(stats.body, "start_time")},
            {"topics", topics},
            {"topic_count", topics.size()},
            {"tombstoned_topics", n.tombstoned},
            {"depth", depth},
            {"message_count", messages},
            {"client_count", clients}};
  }

  void Nodes(httplib::Response& res) {
    ClusterStats s = cluster_.Stats();
    json nodes = json::array();
    for (size_t i = 0; i < s.nodes.size(); ++i) nodes.push_back(NodeJson(s.nodes[i], s.stats[i]));
    JsonOk(res, {{"nodes", nodes}, {"errors", s.errors}});
  }

  void Node(httplib::Response& res, const std::string& address) {
    ClusterStats s = cluster_.Stats();
    for (size_t i = 0; i < s.nodes.size(); ++i) {
      if (s.nodes[i].address != address) continue;
      json node = NodeJson(s.nodes[i], s.stats[i]);
      json topics = json::array();
      if (s.stats[i].ok) {
        for (const json& t : s.stats[i].body["topics"]) {
          json topic = {{"topic_name", t.value("topic_name", "")}, {"paused", B(t, "paused")}};
          AddTopic(topic, t);
          json channels = json::array();
          for (const json& c : t["channels"]) {
            json channel = {{"channel_name", c.value("channel_name", "")}, {"paused", B(c, "paused")}};
            AddChannel(channel, c);
            channels.push_back(std::move(channel));
          }
          topic["channels"] = channels;
          topics.push_back(std::move(topic));
        }
      }
      std::sort(topics.begin(), topics.end(),
                [](const json& a, const json& b) { return a["topic_name"] < b["topic_name"]; });
      node["topics"] = topics;
      node["errors"] = s.errors;
      return JsonOk(res, node);
    }
    Error(res, 404, "NODE_NOT_FOUND");
  }

  // What one qlookupd knows: its topics with their channels and producers, and its nodes.
  static json LookupdView(const std::string& address) {
    json view = {{"address", address}, {"ok", false}, {"error", ""}};
    NodeReply nodes = ClusterInfo::Call(address, "GET", "/nodes");
    NodeReply topics = ClusterInfo::Call(address, "GET", "/topics");
    if (!nodes.ok || !topics.ok) {
      view["error"] = nodes.ok ? topics.error : nodes.error;
      return view;
    }
    std::map<std::string, json> by_topic;
    json node_list = json::array();
    for (const json& p : nodes.body.value("producers", json::array())) {
      std::string node = p.value("broadcast_address", "") + ":" + std::to_string(p.value("http_port", 0));
      json tombstones = p.value("tombstones", json::array());
      json ptopics = p.value("topics", json::array());
      for (size_t i = 0; i < ptopics.size(); ++i) {
        json& t = by_topic[ptopics[i].get<std::string>()];
        bool tomb = i < tombstones.size() && tombstones[i].is_boolean() && tombstones[i].get<bool>();
        t[tomb ? "tombstoned" : "producers"].push_back(node);
      }
      node_list.push_back({{"address", node},
                           {"hostname", p.value("hostname", "")},
                           {"version", p.value("version", "")},
                           {"tcp_port", p.value("tcp_port", 0)},
                           {"topics", ptopics},
                           {"tombstones", tombstones}});
    }
    for (const json& t : topics.body.value("topics", json::array())) by_topic.try_emplace(t.get<std::string>());
    std::vector<std::string> names;
    for (auto& [name, t] : by_topic) names.push_back(name);
    std::vector<std::future<NodeReply>> channel_calls;
    for (const auto& name : names)
      channel_calls.push_back(std::async(std::launch::async, [address, name] {
        return ClusterInfo::Call(address, "GET", "/channels" + Query(name));
      }));
    json topic_list = json::array();
    for (size_t i = 0; i < names.size(); ++i) {
      NodeReply ch = channel_calls[i].get();
      json& t = by_topic[names[i]];
      t["topic_name"] = names[i];
      t["channels"] = ch.ok ? ch.body.value("channels", json::array()) : json::array();
      std::sort(t["channels"].begin(), t["channels"].end());
      for (const char* k : {"producers", "tombstoned"})
        if (!t[k].is_array()) t[k] = json::array();
      topic_list.push_back(t);
    }
    view["ok"] = true;
    view["topics"] = topic_list;
    view["nodes"] = node_list;
    return view;
  }

  void Lookup(httplib::Response& res) {
    std::vector<std::future<json>> views;
    for (const auto& a : cluster_.lookupd_addresses())
      views.push_back(std::async(std::launch::async, [a] { return LookupdView(a); }));
    json list = json::array(), errors = json::array();
    for (auto& f : views) {
      json v = f.get();
      if (!v["ok"].get<bool>()) errors.push_back({{"node", v["address"]}, {"role", "lookupd"}, {"error", v["error"]}});
      list.push_back(std::move(v));
    }
    JsonOk(res, {{"lookupds", list}, {"errors", errors}});
  }

  // --- actions -----------------------------------------------------------------------------

  // The admin user named by the ACL header, or "" when none is configured.
  std::string User(const httplib::Request& req) const { return req.get_header_value(options_.acl_http_header); }

  bool Allowed(const httplib::Request& req, httplib::Response& res) const {
    if (options_.admin_users.empty()) return true;
    std::string user = User(req);
    if (std::find(options_.admin_users.begin(), options_.admin_users.end(), user) != options_.admin_users.end())
      return true;
    LOG_WARN("refused ", req.method, " ", req.path, " from ", req.remote_addr, " (user \"", user, "\")");
    Error(res, 403, "FORBIDDEN");
    return false;
  }

  void Notify(const httplib::Request& req, const std::string& action, const std::string& topic,
              const std::string& channel, const std::string& node) {
    LOG_INFO("action ", action, " topic=", topic, " channel=", channel, " node=", node, " user=", User(req));
    notifier_.Post({{"action", action},
                    {"topic", topic},
                    {"channel", channel},
                    {"node", node},
                    {"timestamp", std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()},
                    {"user", User(req)},
                    {"remote_ip", req.remote_addr},
                    {"user_agent", req.get_header_value("User-Agent")},
                    {"url", req.path},
                    {"via", "qadmin"}});
  }

  // Answers an action sent to several daemons: 200 if any took it, 502 if none could.
  void Finish(httplib::Response& res, const std::vector<NodeReply>& replies, json errors, const std::string& role) {
    size_t ok = 0;
    for (const auto& r : replies) {
      if (r.ok) ++ok;
      else errors.push_back(ErrorEntry(r, role));
    }
    if (ok == 0 && !replies.empty()) {
      res.status = 502;
      res.set_content(json{{"message", "UPSTREAM_ERROR"}, {"errors", errors}}.dump(), "application/json");
      return;
    }
    JsonOk(res, {{"message", "OK"}, {"errors", errors}});
  }

  static std::optional<json> BodyJson(const std::string& body, httplib::Response& res) {
    json j = json::parse(body.empty() ? "{}" : body, nullptr, false);
    if (!j.is_object()) {
      Error(res, 400, "INVALID_BODY");
      return std::nullopt;
    }
    return j;
  }

  void Create(const httplib::Request& req, const std::string& body, httplib::Response& res) {
    auto j = BodyJson(body, res);
    if (!j) return;
    std::string topic = j->value("topic", ""), channel = j->value("channel", "");
    if (!IsValidTopicName(topic)) return Error(res, 400, "INVALID_TOPIC");
    if (!channel.empty() && !IsValidChannelName(channel)) return Error(res, 400, "INVALID_CHANNEL");
    // Through the lookupds as nsqadmin does; without any, on every qd directly.
    const bool via_lookupd = cluster_.has_lookupds();
    json errors = json::array();
    std::vector<std::string> targets = cluster_.lookupd_addresses();
    if (!via_lookupd)
      for (const QdNode& n : cluster_.Nodes(&errors)) targets.push_back(n.address);
    std::vector<NodeReply> replies = ClusterInfo::CallAll(targets, "POST", "/topic/create" + Query(topic));
    if (!channel.empty()) {
      auto more = ClusterInfo::CallAll(targets, "POST", "/channel/create" + Query(topic, channel));
      replies.insert(replies.end(), more.begin(), more.end());
    }
    Notify(req, "create_topic", topic, "", "");
    if (!channel.empty()) Notify(req, "create_channel", topic, channel, "");
    Finish(res, replies, errors, via_lookupd ? "lookupd" : "qd");
  }

  void TopicOrChannelAction(const httplib::Request& req, const std::string& body, httplib::Response& res,
                            const std::string& topic, const std::string& channel) {
    std::string action = "delete";
    if (req.method == "POST") {
      auto j = BodyJson(body, res);
      if (!j) return;
      action = j->value("action", "");
      if (action != "pause" && action != "unpause" && action != "empty")
        return Error(res, 400, "INVALID_ACTION");
    }
    // The qd nodes that have the topic (or channel) now.
    ClusterStats s = cluster_.Stats();
    std::vector<std::string> targets;
    for (size_t i = 0; i < s.stats.size(); ++i) {
      if (!s.stats[i].ok) continue;
      const json* t = FindNamed(s.stats[i].body["topics"], "topic_name", topic);
      if (t && (channel.empty() || FindNamed((*t)["channels"], "channel_name", channel)))
        targets.push_back(s.nodes[i].address);
    }
    const std::string what = channel.empty() ? "topic" : "channel";
    std::vector<NodeReply> replies;
    if (action == "delete") {
      // Lookupds first, so the deleted topic is not handed out again while qd forget it.
      auto lookupd_replies =
          ClusterInfo::CallAll(cluster_.lookupd_addresses(), "POST", "/" + what + "/delete" + Query(topic, channel));
      bool lookupd_knew = false;
      for (const auto& r : lookupd_replies) {
        lookupd_knew = lookupd_knew || r.ok;
        if (!r.ok && r.status != 404) s.errors.push_back(ErrorEntry(r, "lookupd"));
      }
      if (targets.empty() && !lookupd_knew)
        return Error(res, 404, what == "topic" ? "TOPIC_NOT_FOUND" : "CHANNEL_NOT_FOUND");
      replies = ClusterInfo::CallAll(targets, "POST", "/" + what + "/delete" + Query(topic, channel));
    } else {
      if (targets.empty()) return Error(res, 404, what == "topic" ? "TOPIC_NOT_FOUND" : "CHANNEL_NOT_FOUND");
      replies = ClusterInfo::CallAll(targets, "POST", "/" + what + "/" + action + Query(topic, channel));
    }
    Notify(req, action + "_" + what, topic, channel, "");
    Finish(res, replies, s.errors, "qd");
  }

  void Tombstone(const httplib::Request& req, const std::string& body, httplib::Response& res,
                 const std::string& node) {
    std::string topic;
    if (req.method == "POST") {
      auto j = BodyJson(body, res);
      if (!j) return;
      if (j->value("action", "tombstone") != "tombstone") return Error(res, 400, "INVALID_ACTION");
      topic = j->value("topic", "");
    } else {
      topic = http::Param(req, "topic").value_or("");
      if (topic.empty()) {
        // nsqadmin sends DELETE /api/nodes/:node with a JSON body; the router drops DELETE
        // bodies, so the page uses the query or POST.
        auto j = json::parse(body.empty() ? "{}" : body, nullptr, false);
        if (j.is_object()) topic = j.value("topic", "");
      }
    }
    if (!IsValidTopicName(topic)) return Error(res, 400, "INVALID_TOPIC");
    if (!cluster_.has_lookupds()) return Error(res, 400, "NO_LOOKUPD");
    auto replies = ClusterInfo::CallAll(cluster_.lookupd_addresses(), "POST",
                                        "/topic/tombstone" + Query(topic) + "&node=" +
                                            httplib::detail::encode_query_param(node));
    Notify(req, "tombstone_topic_producer", topic, "", node);
    Finish(res, replies, json::array(), "lookupd");
  }

  const Options& options_;
  const ClusterInfo& cluster_;
  const RateHistory& history_;
  Notifier& notifier_;
  http::Router router_;
};

}  // namespace

std::shared_ptr<void> RegisterHttpApi(httplib::Server& server, const Options& options, const ClusterInfo& cluster,
                                      const RateHistory& history, Notifier& notifier) {
  auto api = std::make_shared<Api>(options, cluster, history, notifier);
  api->Register(server);
  return api;
}

}  // namespace q::admin
