#include "qd/http_api.h"

#include <httplib.h>

#include <chrono>
#include <future>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "common/byte_order.h"
#include "common/duration.h"
#include "common/http_router.h"
#include "common/log.h"
#include "common/names.h"
#include "qd/client_v2.h"
#include "qd/http_auth.h"
#include "qd/metrics.h"
#include "qd/lookup.h"
#include "qd/qd.h"
#include "qd/run_on_topic_shard.h"
#include "qd/stats.h"

namespace q {

using nlohmann::json;

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using http::BoolParam;
using http::EmptyOk;
using http::Error;
using http::JsonOk;
using http::Param;
using http::TextOk;

class Api {
 public:
  explicit Api(Qd& qd) : qd_(qd), auth_(qd.options()) {}

  void Register(const std::vector<httplib::Server*>& servers) {
    Route("/ping", {"GET", "HEAD"}, &Api::Ping);
    Route("/info", {"GET", "HEAD"}, &Api::Info);
    Route("/pub", {"POST"}, &Api::Pub, Need::kPublish);
    Route("/mpub", {"POST"}, &Api::Mpub, Need::kPublish);
    Route("/txpub", {"POST"}, &Api::TxPub, Need::kPublish);
    Route("/txcommit", {"POST"}, &Api::TxCommit, Need::kPublish);
    Route("/txrollback", {"POST"}, &Api::TxRollback, Need::kPublish);
    Route("/tx/list", {"GET", "HEAD"}, &Api::TxList);
    Route("/stats", {"GET", "HEAD"}, &Api::Stats);
    Route("/metrics", {"GET", "HEAD"}, &Api::Metrics);
    Route("/topic/create", {"POST"}, &Api::TopicCreate, Need::kPublish);
    Route("/topic/delete", {"POST"}, &Api::TopicDelete, Need::kPublish);
    Route("/topic/empty", {"POST"}, &Api::TopicEmpty, Need::kPublish);
    Route("/topic/pause", {"POST"}, &Api::TopicPause, Need::kPublish);
    Route("/topic/unpause", {"POST"}, &Api::TopicUnpause, Need::kPublish);
    Route("/channel/create", {"POST"}, &Api::ChannelCreate, Need::kSubscribe);
    Route("/channel/delete", {"POST"}, &Api::ChannelDelete, Need::kSubscribe);
    Route("/channel/empty", {"POST"}, &Api::ChannelEmpty, Need::kSubscribe);
    Route("/channel/pause", {"POST"}, &Api::ChannelPause, Need::kSubscribe);
    Route("/channel/unpause", {"POST"}, &Api::ChannelUnpause, Need::kSubscribe);
    router_.RoutePrefix("/config/", [this](const httplib::Request& req, const std::string& body, httplib::Response& res) {
      // Reading the configuration stays open, like /stats; changing it is guarded.
      if (req.method != "GET" && req.method != "HEAD" && !auth_.Allow(req, Need::kAnyGrant, res)) return;
      Config(req, body, res);
    });
    const Options& o = qd_.options();
    // Bodies up to the larger limit reach the handlers, which answer with nsqd's codes.
    for (httplib::Server* server : servers)
      router_.Install(*server, static_cast<size_t>(std::max(o.max_body_size, o.max_msg_size)) + 1,
                      [](const httplib::Request& req) { return req.path == "/mpub" ? "BODY_TOO_BIG" : "MSG_TOO_BIG"; });
  }

 private:
  using Handler = void (Api::*)(const httplib::Request&, const std::string& body, httplib::Response&);

  using Need = HttpAuth::Need;

  void Route(const std::string& path, std::set<std::string> methods, Handler h) {
    router_.Route(path, std::move(methods), std::bind_front(h, this));
  }
  // An endpoint that --http-auth-required guards.
  void Route(const std::string& path, std::set<std::string> methods, Handler h, Need need) {
    router_.Route(path, std::move(methods),
                  [this, h, need](const httplib::Request& req, const std::string& body, httplib::Response& res) {
                    if (auth_.Allow(req, need, res)) (this->*h)(req, body, res);
                  });
  }

  // --- health and identity ---------------------------------------------------------------

  void Ping(const httplib::Request&, const std::string&, httplib::Response& res) {
    // No NSQ header on /ping, as nsqd.
    if (qd_.healthy()) {
      res.status = 200;
      res.set_content("OK", "text/plain; charset=utf-8");
    } else {
      res.status = 500;
      res.set_content(qd_.Health(), "text/plain; charset=utf-8");
    }
  }

  void Info(const httplib::Request&, const std::string&, httplib::Response& res) {
    const Options& o = qd_.options();
    JsonOk(res, {{"version", Q_VERSION},
                 {"broadcast_address", qd_.broadcast_address()},
                 {"hostname", qd_.hostname()},
                 {"http_port", o.broadcast_http_port > 0 ? o.broadcast_http_port : qd_.http_port()},
                 {"tcp_port", o.broadcast_tcp_port > 0 ? o.broadcast_tcp_port : qd_.tcp_port()},
                 {"start_time", qd_.start_time()},
                 {"max_heartbeat_interval", o.max_heartbeat_interval.count()},
                 {"max_output_buffer_size", o.max_output_buffer_size},
                 {"max_output_buffer_timeout", o.max_output_buffer_timeout.count()},
                 {"max_deflate_level", o.max_deflate_level},
                 {"topology_zone", o.topology_zone},
                 {"topology_region", o.topology_region}});
  }

  // --- publishing --------------------------------------------------------------------------

  // Validates ?topic= as /pub and /mpub do; returns the name or answers the error.
  std::optional<std::string> TopicParam(const httplib::Request& req, httplib::Response& res,
                                        const char* invalid_code) {
    auto topic = Param(req, "topic");
    if (!topic) {
      Error(res, 400, "MISSING_ARG_TOPIC");
      return std::nullopt;
    }
    if (!IsValidTopicName(*topic)) {
      Error(res, 400, invalid_code);
      return std::nullopt;
    }
    // nsqd creates the topic here, before looking at the body or other parameters.
    if (!qd_.GetOrCreateTopic(*topic)) {
      Error(res, 503, "EXITING");
      return std::nullopt;
    }
    return topic;
  }

  // From this HTTP thread: runs work(topic, &error) on the topic's shard and waits for its
  // answer, which with await_durable on a durable topic (--sync-every=1) comes after the
  // group commit fsynced it. Returns nullopt after answering the error when the shard did
  // not take the work (503 EXITING) or the disk did not answer in time (500).
  template <class F, class R = std::invoke_result_t<F&, Topic&, std::string*>>
  std::optional<TopicAnswer<R>> WaitOnTopicShard(Topic& topic, F&& work, bool await_durable,
                                                 const std::string& failed_code, httplib::Response& res) {
    auto done = std::make_shared<std::promise<TopicAnswer<R>>>();
    auto posted = RunSync(topic.shard(), [&] {
      TopicAnswer<R> answer;
      answer.result = work(topic, &answer.error);
      if (Succeeded(answer.result) && await_durable && topic.durable_publish()) {
        topic.AwaitDurable([done, answer](bool synced, const std::string& error) mutable {
          if (!synced) {
            answer.result = AsFailed(answer.result);
            answer.error = error;
          }
          done->set_value(std::move(answer));
        });
      } else {
        done->set_value(std::move(answer));
      }
      return true;
    });
    if (!posted) {
      Error(res, 503, "EXITING");
      return std::nullopt;
    }
    auto future = done->get_future();
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      Error(res, 500, failed_code + ": timed out waiting for the disk");
      return std::nullopt;
    }
    return future.get();
  }

  // A failed effect: the topic is going away (503), or a write or fsync failed (disk full,
  // I/O error) and nothing is acknowledged (500).
  static void Failed(httplib::Response& res, const std::string& failed_code, const std::string& error) {
    if (error == "exiting") return Error(res, 503, "EXITING");
    Error(res, 500, failed_code + ": " + error);
  }

  bool PublishBodies(const std::string& topic_name, std::vector<Body> bodies, int64_t deliver_at,
                     httplib::Response& res) {
    auto topic = qd_.GetOrCreateTopic(topic_name);
    if (!topic) {
      Error(res, 503, "EXITING");
      return false;
    }
    auto publish = [&](Topic& t, std::string* error) { return t.Publish(std::move(bodies), deliver_at, error); };
    std::optional<TopicAnswer<bool>> answer = WaitOnTopicShard(*topic, publish, true, "PUB_FAILED", res);
    if (!answer) return false;
    if (!answer->result) {
      Failed(res, "PUB_FAILED", answer->error);
      return false;
    }
    TextOk(res, "OK");
    return true;
  }

  void Pub(const httplib::Request& req, const std::string& body, httplib::Response& res) {
    const Options& o = qd_.options();
    if (static_cast<int64_t>(body.size()) > o.max_msg_size) return Error(res, 413, "MSG_TOO_BIG");
    if (body.empty()) return Error(res, 400, "MSG_EMPTY");
    auto topic = TopicParam(req, res, "INVALID_TOPIC");
    if (!topic) return;
    int64_t deliver_at = 0;
    if (auto d = Param(req, "defer")) {
      char* end = nullptr;
      errno = 0;
      long long ms = std::strtoll(d->c_str(), &end, 10);
      if (d->empty() || *end != '\0' || errno != 0 || ms < 0 || ms > o.max_req_timeout.count() / 1000000)
        return Error(res, 400, "INVALID_DEFER");
      if (ms > 0) deliver_at = NowNs() + ms * 1000000;
    }
    PublishBodies(*topic, {MakeBody(body)}, deliver_at, res);
  }

  void Mpub(const httplib::Request& req, const std::string& body, httplib::Response& res) {
    const Options& o = qd_.options();
    if (static_cast<int64_t>(body.size()) > o.max_body_size) return Error(res, 413, "BODY_TOO_BIG");
    auto topic = TopicParam(req, res, "INVALID_TOPIC");
    if (!topic) return;
    std::vector<Body> bodies;
    std::string_view rest(body);
    if (BoolParam(req, "binary", false)) {
      // [4B count] then per message [4B size][bytes], as TCP MPUB without the body size.
      if (rest.size() < 4) return Error(res, 413, "BAD_BODY");
      auto count = static_cast<int32_t>(LoadBE32(rest.data()));
      rest.remove_prefix(4);
      if (count <= 0 || count > (o.max_body_size - 4) / 5) return Error(res, 413, "BAD_BODY");
      for (int32_t i = 0; i < count; ++i) {
        if (rest.size() < 4) return Error(res, 413, "BAD_MESSAGE");
        auto size = static_cast<int32_t>(LoadBE32(rest.data()));
        rest.remove_prefix(4);
        if (size <= 0 || size > o.max_msg_size || rest.size() < static_cast<size_t>(size))
          return Error(res, 413, "BAD_MESSAGE");
        bodies.push_back(MakeBody(rest.substr(0, static_cast<size_t>(size))));
        rest.remove_prefix(static_cast<size_t>(size));
      }
    } else {
      // One message per line; empty lines are skipped.
      while (!rest.empty()) {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (line.empty()) continue;
        if (static_cast<int64_t>(line.size()) > o.max_msg_size) return Error(res, 413, "MSG_TOO_BIG");
        bodies.push_back(MakeBody(line));
      }
      // Nothing to publish still answers OK (nsqd); the topic was created above.
      if (bodies.empty()) return TextOk(res, "OK");
    }
    PublishBodies(*topic, std::move(bodies), 0, res);
  }

  // --- transactions (docs/transactions.md) -------------------------------------------------

  // Runs fn on the topic's shard and, when it succeeds and await_durable is set on a topic
  // that acknowledges only fsynced data, waits for the group commit. Answers OK or the error.
  void RunTx(Topic& topic, const std::function<Topic::TxResult(Topic&, std::string*)>& fn, bool await_durable,
             httplib::Response& res) {
    std::optional<TopicAnswer<Topic::TxResult>> answer = WaitOnTopicShard(topic, fn, await_durable, "TX_FAILED", res);
    if (!answer) return;
    switch (answer->result) {
      case Topic::TxResult::kOk:
        return TextOk(res, "OK");
      case Topic::TxResult::kExists:
        return Error(res, 409, "TX_EXISTS");
      case Topic::TxResult::kDecided:
        return Error(res, 409, "TX_DECIDED");
      case Topic::TxResult::kUnknown:
        return Error(res, 404, "TX_UNKNOWN");
      case Topic::TxResult::kFailed:
        return Failed(res, "TX_FAILED", answer->error);
    }
  }

  // ?txid=, validated; answers the error otherwise.
  std::optional<std::string> TxidParam(const httplib::Request& req, httplib::Response& res) {
    auto txid = Param(req, "txid");
    if (!txid) {
      Error(res, 400, "MISSING_ARG_TXID");
      return std::nullopt;
    }
    if (!IsValidTxid(*txid)) {
      Error(res, 400, "INVALID_TXID");
      return std::nullopt;
    }
    return txid;
  }

  void TxPub(const httplib::Request& req, const std::string& body, httplib::Response& res) {
    const Options& o = qd_.options();
    if (static_cast<int64_t>(body.size()) > o.max_msg_size) return Error(res, 413, "MSG_TOO_BIG");
    if (body.empty()) return Error(res, 400, "MSG_EMPTY");
    auto topic_name = Param(req, "topic");
    if (!topic_name) return Error(res, 400, "MISSING_ARG_TOPIC");
    if (!IsValidTopicName(*topic_name)) return Error(res, 400, "INVALID_TOPIC");
    auto txid = TxidParam(req, res);
    if (!txid) return;
    std::string check_url = Param(req, "check_url").value_or("");
    if (!check_url.empty() && !IsValidCheckUrl(check_url)) return Error(res, 400, "INVALID_CHECK_URL");
    std::string group = Param(req, "tx_group").value_or("");
    if (!group.empty() && !IsValidTxGroup(group)) return Error(res, 400, "INVALID_TX_GROUP");
    auto topic = qd_.GetOrCreateTopic(*topic_name);
    if (!topic) return Error(res, 503, "EXITING");
    Body shared = MakeBody(body);
    RunTx(*topic, [&](Topic& t, std::string* error) { return t.TxPublish(*txid, group, check_url, shared, error); },
          true, res);
  }

  void TxDecide(const httplib::Request& req, httplib::Response& res, TxAnswer answer) {
    auto topic_name = Param(req, "topic");
    if (!topic_name) return Error(res, 400, "MISSING_ARG_TOPIC");
    if (!IsValidTopicName(*topic_name)) return Error(res, 400, "INVALID_TOPIC");
    auto txid = TxidParam(req, res);
    if (!txid) return;
    auto topic = qd_.FindTopic(*topic_name);
    if (!topic) return Error(res, 404, "TX_UNKNOWN");
    RunTx(*topic, [&](Topic& t, std::string* error) { return t.TxDecide(*txid, answer, error); },
          answer == TxAnswer::kCommit, res);
  }

  void TxCommit(const httplib::Request& req, const std::string&, httplib::Response& res) {
    TxDecide(req, res, TxAnswer::kCommit);
  }
  void TxRollback(const httplib::Request& req, const std::string&, httplib::Response& res) {
    TxDecide(req, res, TxAnswer::kRollback);
  }

  void TxList(const httplib::Request& req, const std::string&, httplib::Response& res) {
    std::string filter = Param(req, "topic").value_or("");
    json topics = json::array();
    for (const auto& topic : qd_.Topics()) {
      if (!filter.empty() && topic->name() != filter) continue;
      auto lists = RunSync(topic->shard(), [&] { return std::make_pair(topic->TxPending(), topic->TxExpired()); });
      if (!lists || (lists->first.empty() && lists->second.empty())) continue;
      json pending = json::array();
      for (const HalfMessage& h : lists->first)
        pending.push_back({{"txid", h.txid},
                           {"tx_group", h.group},
                           {"check_url", h.check_url},
                           {"id", std::string(h.id.view())},
                           {"timestamp", h.timestamp},
                           {"body_size", h.body_size},
                           {"checks", h.checks},
                           {"next_check_at", h.next_check_at == INT64_MAX ? 0 : h.next_check_at}});
      json expired = json::array();
      for (const ExpiredHalfMessage& e : lists->second)
        expired.push_back({{"txid", e.txid}, {"tx_group", e.group}, {"expired_at", e.expired_at}});
      topics.push_back({{"topic_name", topic->name()}, {"half_messages", pending}, {"expired", expired}});
    }
    JsonOk(res, {{"topics", topics}});
  }

  // --- stats ---------------------------------------------------------------------------------

  void Stats(const httplib::Request& req, const std::string&, httplib::Response& res) {
    std::string format = Param(req, "format").value_or("text");
    std::string topic_filter = Param(req, "topic").value_or("");
    std::string channel_filter = Param(req, "channel").value_or("");
    bool include_clients = BoolParam(req, "include_clients", true);
    bool include_mem = BoolParam(req, "include_mem", true);

    bool topic_known = topic_filter.empty() || qd_.FindTopic(topic_filter) != nullptr;
    std::vector<TopicStats> stats = CollectTopics(topic_filter, channel_filter, include_clients);
    std::vector<ClientStats> producers;
    if (include_clients) producers = CollectProducers();
    if (format != "json") {
      return TextOk(res, ToText(stats, producers, Q_VERSION, qd_.Health(), qd_.start_time()));
    }
    json topics_json = json::array();
    for (auto& s : stats) topics_json.push_back(ToJson(s, include_clients));
    if (!topic_known) topics_json = nullptr;
    json producers_json = nullptr;
    if (include_clients && !producers.empty()) {
      producers_json = json::array();
      for (auto& p : producers) producers_json.push_back(ToJson(p, true));
    }
    json body = {{"version", Q_VERSION},
                 {"health", qd_.Health()},
                 {"start_time", qd_.start_time()},
                 {"topics", topics_json},
                 {"producers", producers_json}};
    if (include_mem) body["memory"] = MemoryStats();
    JsonOk(res, body);
  }

  std::vector<TopicStats> CollectTopics(const std::string& topic_filter, const std::string& channel_filter,
                                        bool include_clients) {
    return qd_.CollectStats(topic_filter, channel_filter, include_clients);
  }

  // Connections that published, and (if asked) how many connections there are in all.
  std::vector<ClientStats> CollectProducers(int64_t* connections = nullptr) {
    std::vector<ClientStats> producers;
    for (Shard* shard : qd_.shards()) {
      auto p = RunSync(*shard, [shard] {
        std::pair<std::vector<ClientStats>, int64_t> out;
        for (auto& [id, c] : shard->clients)
          if (c->is_producer()) out.first.push_back(c->Stats());
        out.second = static_cast<int64_t>(shard->clients.size());
        return out;
      });
      if (!p) continue;
      producers.insert(producers.end(), p->first.begin(), p->first.end());
      if (connections) *connections += p->second;
    }
    return producers;
  }

  void Metrics(const httplib::Request&, const std::string&, httplib::Response& res) {
    MetricsSnapshot m;
    m.topics = CollectTopics("", "", false);
    CollectProducers(&m.connections);
    m.healthy = qd_.healthy();
    m.start_time = qd_.start_time();
    m.resident_bytes = MemoryStats()["heap_in_use_bytes"].get<int64_t>();
    res.status = 200;
    res.set_content(ToPrometheus(m), "text/plain; version=0.0.4; charset=utf-8");
  }

  static json MemoryStats() {
    // Go's heap figures have no C++ equivalent; the resident set is the honest stand-in.
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
      std::fclose(f);
    }
    int64_t rss = static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
    return {{"heap_objects", 0},       {"heap_idle_bytes", 0},  {"heap_in_use_bytes", rss},
            {"heap_released_bytes", 0}, {"gc_pause_usec_100", 0}, {"gc_pause_usec_99", 0},
            {"gc_pause_usec_95", 0},   {"next_gc_bytes", 0},    {"gc_total_runs", 0}};
  }

  // --- topic administration ------------------------------------------------------------------

  // Runs fn(topic) on the topic's shard after the usual checks; 404 if the topic is unknown.
  template <class F>
  void WithTopic(const httplib::Request& req, httplib::Response& res, bool validate, F fn) {
    auto name = Param(req, "topic");
    if (!name) return Error(res, 400, "MISSING_ARG_TOPIC");
    if (validate && !IsValidTopicName(*name)) return Error(res, 400, "INVALID_TOPIC");
    auto topic = qd_.FindTopic(*name);
    if (!topic) return Error(res, 404, "TOPIC_NOT_FOUND");
    auto ok = RunSync(topic->shard(), [&] { return fn(*topic); });
    if (!ok || !*ok) return Error(res, 500, "INTERNAL_ERROR");
    EmptyOk(res);
  }

  void TopicCreate(const httplib::Request& req, const std::string&, httplib::Response& res) {
    auto name = Param(req, "topic");
    if (!name) return Error(res, 400, "MISSING_ARG_TOPIC");
    if (!IsValidTopicName(*name)) return Error(res, 400, "INVALID_TOPIC");
    if (!qd_.GetOrCreateTopic(*name)) return Error(res, 503, "EXITING");
    EmptyOk(res);
  }

  void TopicDelete(const httplib::Request& req, const std::string&, httplib::Response& res) {
    auto name = Param(req, "topic");
    if (!name) return Error(res, 400, "MISSING_ARG_TOPIC");
    if (!qd_.DeleteTopic(*name)) return Error(res, 404, "TOPIC_NOT_FOUND");
    EmptyOk(res);
  }

  void TopicEmpty(const httplib::Request& req, const std::string&, httplib::Response& res) {
    WithTopic(req, res, true, [](Topic& t) {
      t.Empty();
      return true;
    });
  }
  void TopicPause(const httplib::Request& req, const std::string&, httplib::Response& res) {
    WithTopic(req, res, false, [](Topic& t) {
      t.SetPaused(true);
      return true;
    });
  }
  void TopicUnpause(const httplib::Request& req, const std::string&, httplib::Response& res) {
    WithTopic(req, res, false, [](Topic& t) {
      t.SetPaused(false);
      return true;
    });
  }

  // --- channel administration ----------------------------------------------------------------

  // Checks topic and channel parameters; answers the error and returns nullptr if bad.
  std::shared_ptr<Topic> ChannelArgs(const httplib::Request& req, httplib::Response& res, std::string* channel) {
    auto topic_name = Param(req, "topic");
    if (!topic_name) return Error(res, 400, "MISSING_ARG_TOPIC"), nullptr;
    if (!IsValidTopicName(*topic_name)) return Error(res, 400, "INVALID_ARG_TOPIC"), nullptr;
    auto channel_name = Param(req, "channel");
    if (!channel_name) return Error(res, 400, "MISSING_ARG_CHANNEL"), nullptr;
    if (!IsValidChannelName(*channel_name)) return Error(res, 400, "INVALID_ARG_CHANNEL"), nullptr;
    auto topic = qd_.FindTopic(*topic_name);
    if (!topic) return Error(res, 404, "TOPIC_NOT_FOUND"), nullptr;
    *channel = *channel_name;
    return topic;
  }

  // Runs fn(channel) on the shard; 404 CHANNEL_NOT_FOUND if the channel is unknown.
  template <class F>
  void WithChannel(const httplib::Request& req, httplib::Response& res, F fn) {
    std::string name;
    auto topic = ChannelArgs(req, res, &name);
    if (!topic) return;
    auto found = RunSync(topic->shard(), [&] {
      Channel* ch = topic->FindChannel(name);
      if (ch == nullptr) return false;
      fn(*topic, *ch);
      return true;
    });
    if (!found) return Error(res, 500, "INTERNAL_ERROR");
    if (!*found) return Error(res, 404, "CHANNEL_NOT_FOUND");
    EmptyOk(res);
  }

  void ChannelCreate(const httplib::Request& req, const std::string&, httplib::Response& res) {
    std::string name;
    auto topic = ChannelArgs(req, res, &name);
    if (!topic) return;
    auto ok = RunSync(topic->shard(), [&] { return topic->GetOrCreateChannel(name) != nullptr; });
    if (!ok || !*ok) return Error(res, 404, "TOPIC_NOT_FOUND");
    EmptyOk(res);
  }
  void ChannelDelete(const httplib::Request& req, const std::string&, httplib::Response& res) {
    WithChannel(req, res, [&](Topic& t, Channel& c) { t.DeleteChannel(c.name()); });
  }
  void ChannelEmpty(const httplib::Request& req, const std::string&, httplib::Response& res) {
    WithChannel(req, res, [](Topic&, Channel& c) { c.Empty(); });
  }
  void ChannelPause(const httplib::Request& req, const std::string&, httplib::Response& res) {
    WithChannel(req, res, [](Topic&, Channel& c) { c.SetPaused(true); });
  }
  void ChannelUnpause(const httplib::Request& req, const std::string&, httplib::Response& res) {
    WithChannel(req, res, [](Topic&, Channel& c) { c.SetPaused(false); });
  }

  // --- /config/:opt ----------------------------------------------------------------------------

  json OptionsJson() {
    const Options& o = qd_.options();
    std::lock_guard lock(config_mu_);
    return {{"tcp_address", o.tcp_address},
            {"http_address", o.http_address},
            {"https_address", o.https_address},
            {"broadcast_address", qd_.broadcast_address()},
            {"node_id", qd_.node_id()},
            {"nsqlookupd_tcp_addresses", lookupd_addresses_},
            {"data_path", o.data_path},
            {"mem_queue_size", o.mem_queue_size},
            {"max_bytes_per_file", o.max_bytes_per_file},
            {"sync_every", o.sync_every},
            {"sync_timeout", o.sync_timeout.count()},
            {"msg_timeout", o.msg_timeout.count()},
            {"max_msg_timeout", o.max_msg_timeout.count()},
            {"max_msg_size", o.max_msg_size},
            {"max_body_size", o.max_body_size},
            {"max_req_timeout", o.max_req_timeout.count()},
            {"max_rdy_count", o.max_rdy_count},
            {"max_heartbeat_interval", o.max_heartbeat_interval.count()},
            {"max_output_buffer_size", o.max_output_buffer_size},
            {"max_output_buffer_timeout", o.max_output_buffer_timeout.count()},
            {"min_output_buffer_timeout", o.min_output_buffer_timeout.count()},
            {"output_buffer_timeout", o.output_buffer_timeout.count()},
            {"max_channel_consumers", o.max_channel_consumers},
            {"log_level", std::string(LogLevelName(Logger::Level()))},
            {"deflate", o.deflate},
            {"snappy", o.snappy},
            {"max_deflate_level", o.max_deflate_level}};
  }

  void Config(const httplib::Request& req, const std::string& body, httplib::Response& res) {
    std::string opt = req.path.substr(8);
    if (req.method != "GET" && req.method != "PUT") return Error(res, 405, "METHOD_NOT_ALLOWED");
    {
      std::lock_guard lock(config_mu_);
      if (!lookupd_loaded_) {
        lookupd_addresses_ = qd_.options().lookupd_tcp_addresses;
        lookupd_loaded_ = true;
      }
    }
    if (req.method == "GET") {
      json all = OptionsJson();
      if (!all.contains(opt)) return Error(res, 400, "INVALID_OPTION");
      return JsonOk(res, all[opt]);
    }
    if (body.empty() || static_cast<int64_t>(body.size()) > qd_.options().max_msg_size)
      return Error(res, 413, "INVALID_VALUE");
    if (opt == "nsqlookupd_tcp_addresses") {
      json v = json::parse(body, nullptr, false);
      if (v.is_discarded() || !v.is_array()) return Error(res, 400, "INVALID_VALUE");
      std::vector<std::string> addrs;
      for (auto& a : v) {
        if (!a.is_string()) return Error(res, 400, "INVALID_VALUE");
        addrs.push_back(a.get<std::string>());
      }
      {
        std::lock_guard lock(config_mu_);
        lookupd_addresses_ = addrs;
      }
      if (LookupClient* lookup = qd_.lookup()) lookup->SetAddresses(addrs);
      return JsonOk(res, addrs);
    }
    if (opt == "log_level") {
      std::string level = body;
      while (!level.empty() && (level.back() == '\n' || level.back() == '\r')) level.pop_back();
      if (level.size() >= 2 && level.front() == '"' && level.back() == '"') level = level.substr(1, level.size() - 2);
      auto parsed = ParseLogLevel(level);
      if (!parsed) return Error(res, 400, "INVALID_VALUE");
      Logger::SetLevel(*parsed);
      return JsonOk(res, std::string(LogLevelName(*parsed)));
    }
    return Error(res, 400, "INVALID_OPTION");
  }

  Qd& qd_;
  HttpAuth auth_;
  http::Router router_;
  std::mutex config_mu_;
  bool lookupd_loaded_ = false;
  std::vector<std::string> lookupd_addresses_;
};

}  // namespace

std::shared_ptr<void> RegisterHttpApi(const std::vector<httplib::Server*>& servers, Qd& qd) {
  auto api = std::make_shared<Api>(qd);
  api->Register(servers);
  return api;
}

}  // namespace q
