#include "lookupd/http_api.h"

#include <httplib.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/http_router.h"
#include "common/log.h"
#include "common/names.h"
#include "lookupd/registration_db.h"

namespace q::lookupd {

using nlohmann::json;

namespace {

constexpr const char* kTextType = "text/plain; charset=utf-8";

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using http::EmptyOk;
using http::Error;
using http::JsonOk;
using http::Param;

// A list that serialises as [] when empty (json's default for an empty vector is also [],
// but an explicit array keeps that true for every element type).
json StringArray(const std::vector<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

// The "peer" object of /lookup; /nodes adds topics and tombstones.
json PeerJson(const PeerInfo& p) {
  return {{"remote_address", p.remote_address},   {"hostname", p.hostname},
          {"broadcast_address", p.broadcast_address}, {"tcp_port", p.tcp_port},
          {"http_port", p.http_port},             {"version", p.version},
          {"topology_zone", p.topology_zone},     {"topology_region", p.topology_region}};
}

class Api {
 public:
  explicit Api(RegistrationDb& db) : db_(db) {}

  void Register(httplib::Server& server) {
    Route("/ping", {"GET", "HEAD"}, &Api::Ping);
    Route("/info", {"GET", "HEAD"}, &Api::Info);
    Route("/debug", {"GET", "HEAD"}, &Api::Debug);
    Route("/lookup", {"GET", "HEAD"}, &Api::Lookup);
    Route("/topics", {"GET", "HEAD"}, &Api::Topics);
    Route("/channels", {"GET", "HEAD"}, &Api::Channels);
    Route("/nodes", {"GET", "HEAD"}, &Api::Nodes);
    Route("/topic/create", {"POST"}, &Api::TopicCreate);
    Route("/topic/delete", {"POST"}, &Api::TopicDelete);
    Route("/topic/tombstone", {"POST"}, &Api::TopicTombstone);
    Route("/channel/create", {"POST"}, &Api::ChannelCreate);
    Route("/channel/delete", {"POST"}, &Api::ChannelDelete);

    router_.Install(server, 1 << 20, [](const httplib::Request&) { return "REQUEST_TOO_LARGE"; });
  }

 private:
  using Handler = void (Api::*)(const httplib::Request&, httplib::Response&);

  void Route(const std::string& path, std::set<std::string> methods, Handler h) {
    // Bodies are ignored by every nsqlookupd endpoint.
    router_.Route(path, std::move(methods),
                  [this, h](const httplib::Request& req, const std::string&, httplib::Response& res) {
                    (this->*h)(req, res);
                  });
  }

  // --- reads -------------------------------------------------------------------------------

  void Ping(const httplib::Request&, httplib::Response& res) {
    // No NSQ header on /ping, as nsqlookupd.
    res.status = 200;
    res.set_content("OK", kTextType);
  }

  void Info(const httplib::Request&, httplib::Response& res) { JsonOk(res, {{"version", Q_VERSION}}); }

  void Topics(const httplib::Request&, httplib::Response& res) {
    JsonOk(res, {{"topics", StringArray(db_.Topics())}});
  }

  void Channels(const httplib::Request& req, httplib::Response& res) {
    auto topic = Param(req, "topic");
    if (!topic) return Error(res, 400, "MISSING_ARG_TOPIC");
    JsonOk(res, {{"channels", StringArray(db_.Channels(*topic))}});
  }

  void Lookup(const httplib::Request& req, httplib::Response& res) {
    auto topic = Param(req, "topic");
    if (!topic) return Error(res, 400, "MISSING_ARG_TOPIC");
    auto found = db_.Lookup(*topic, NowNs());
    if (!found) return Error(res, 404, "TOPIC_NOT_FOUND");
    json producers = json::array();
    for (const auto& p : found->producers) producers.push_back(PeerJson(*p));
    JsonOk(res, {{"channels", StringArray(found->channels)}, {"producers", producers}});
  }

  void Nodes(const httplib::Request&, httplib::Response& res) {
    json producers = json::array();
    for (const NodeView& n : db_.Nodes(NowNs())) {
      json node = PeerJson(*n.peer);
      node["topics"] = StringArray(n.topics);
      json tombstones = json::array();
      for (bool t : n.tombstones) tombstones.push_back(t);
      node["tombstones"] = tombstones;
      producers.push_back(std::move(node));
    }
    JsonOk(res, {{"producers", producers}});
  }

  void Debug(const httplib::Request&, httplib::Response& res) {
    json out = json::object();
    for (const auto& [r, producers] : db_.Dump()) {
      // nsqlookupd lists only keys that have producers.
      if (producers.empty()) continue;
      json& list = out[r.category + ":" + r.key + ":" + r.subkey];
      for (const ProducerView& p : producers) {
        list.push_back({{"id", p.peer->id},
                        {"hostname", p.peer->hostname},
                        {"broadcast_address", p.peer->broadcast_address},
                        {"tcp_port", p.peer->tcp_port},
                        {"http_port", p.peer->http_port},
                        {"version", p.peer->version},
                        {"topology_zone", p.peer->topology_zone},
                        {"topology_region", p.peer->topology_region},
                        {"last_update", p.peer->last_update.load()},
                        {"tombstoned", p.tombstoned},
                        {"tombstoned_at", p.tombstoned_at}});
      }
    }
    JsonOk(res, out);
  }

  // --- edits --------------------------------------------------------------------------------

  void TopicCreate(const httplib::Request& req, httplib::Response& res) {
    auto topic = Param(req, "topic");
    if (!topic) return Error(res, 400, "MISSING_ARG_TOPIC");
    if (!IsValidTopicName(*topic)) return Error(res, 400, "INVALID_ARG_TOPIC");
    LOG_INFO("DB: adding topic(", *topic, ")");
    db_.CreateTopic(*topic);
    EmptyOk(res);
  }

  void TopicDelete(const httplib::Request& req, httplib::Response& res) {
    auto topic = Param(req, "topic");
    if (!topic) return Error(res, 400, "MISSING_ARG_TOPIC");
    LOG_INFO("DB: removing topic(", *topic, ") and its channels");
    db_.DeleteTopic(*topic);
    EmptyOk(res);
  }

  void TopicTombstone(const httplib::Request& req, httplib::Response& res) {
    auto topic = Param(req, "topic");
    if (!topic) return Error(res, 400, "MISSING_ARG_TOPIC");
    auto node = Param(req, "node");
    if (!node) return Error(res, 400, "MISSING_ARG_NODE");
    LOG_INFO("DB: setting tombstone for producer@", *node, " of topic(", *topic, ")");
    db_.TombstoneTopicProducer(*topic, *node, NowNs());
    EmptyOk(res);
  }

  // Checks topic and channel as nsqlookupd's GetTopicChannelArgs does; answers the error.
  bool TopicChannelArgs(const httplib::Request& req, httplib::Response& res, std::string* topic, std::string* channel) {
    auto t = Param(req, "topic");
    if (!t) return Error(res, 400, "MISSING_ARG_TOPIC"), false;
    if (!IsValidTopicName(*t)) return Error(res, 400, "INVALID_ARG_TOPIC"), false;
    auto c = Param(req, "channel");
    if (!c) return Error(res, 400, "MISSING_ARG_CHANNEL"), false;
    if (!IsValidChannelName(*c)) return Error(res, 400, "INVALID_ARG_CHANNEL"), false;
    *topic = *t;
    *channel = *c;
    return true;
  }

  void ChannelCreate(const httplib::Request& req, httplib::Response& res) {
    std::string topic, channel;
    if (!TopicChannelArgs(req, res, &topic, &channel)) return;
    LOG_INFO("DB: adding channel(", channel, ") in topic(", topic, ")");
    db_.CreateChannel(topic, channel);
    EmptyOk(res);
  }

  void ChannelDelete(const httplib::Request& req, httplib::Response& res) {
    std::string topic, channel;
    if (!TopicChannelArgs(req, res, &topic, &channel)) return;
    if (!db_.DeleteChannel(topic, channel)) return Error(res, 404, "CHANNEL_NOT_FOUND");
    LOG_INFO("DB: removed channel(", channel, ") from topic(", topic, ")");
    EmptyOk(res);
  }

  RegistrationDb& db_;
  http::Router router_;
};

}  // namespace

std::shared_ptr<void> RegisterHttpApi(httplib::Server& server, RegistrationDb& db) {
  auto api = std::make_shared<Api>(db);
  api->Register(server);
  return api;
}

}  // namespace q::lookupd
