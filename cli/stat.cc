// qctl stat: a refreshing table of a topic's channels — depth, in-flight, deferred, requeued,
// timed out, message rate — summed over the qd that serve it (NSQ's nsq_stat).
#include <cstdio>
#include <map>
#include <thread>

#include "cli/commands.h"
#include "cli/http_call.h"
#include "common/duration.h"
#include "common/names.h"

namespace q::cli {

namespace {

struct StatOptions {
  std::vector<std::string> qd_http;
  std::vector<std::string> lookupd_http;
  std::string topic;
  std::string channel;  // empty: every channel of the topic
  std::string status_every = "2s";
  int64_t count = 0;  // rounds, 0: until interrupted
};

struct ChannelRow {
  int64_t depth = 0, backend_depth = 0, in_flight = 0, deferred = 0, requeued = 0,
          timed_out = 0, messages = 0, clients = 0;
};

int64_t Int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

// Sums the channels of o.topic over every qd; error if none could be asked.
Status Sample(const StatOptions& o, std::map<std::string, ChannelRow>* rows) {
  rows->clear();
  std::vector<std::string> qds;
  Status s = QdHttpAddresses(o.qd_http, o.lookupd_http, o.topic, &qds);
  if (!s.ok()) return s;
  if (qds.empty()) return Status::Error("no qd has topic \"" + o.topic + "\"");
  for (const auto& qd : qds) {
    std::string path = "/stats?format=json&topic=" + QueryEscape(o.topic);
    if (!o.channel.empty()) path += "&channel=" + QueryEscape(o.channel);
    HttpAnswer answer;
    s = HttpCall("GET", qd, path, &answer);
    if (!s.ok()) return s;
    nlohmann::json j;
    s = ParseJson(qd, answer.body, &j);
    if (!s.ok()) return s;
    if (!j.is_object() || !j.contains("topics") || !j["topics"].is_array()) {
      return Status::Error(qd + ": /stats answer has no topics");
    }
    for (const auto& t : j["topics"]) {
      if (!t.is_object() || t.value("topic_name", "") != o.topic) continue;
      if (!t.contains("channels") || !t["channels"].is_array()) continue;
      for (const auto& c : t["channels"]) {
        if (!c.is_object()) continue;
        std::string name = c.value("channel_name", "");
        if (!o.channel.empty() && name != o.channel) continue;
        ChannelRow& r = (*rows)[name];
        r.depth += Int(c, "depth");
        r.backend_depth += Int(c, "backend_depth");
        r.in_flight += Int(c, "in_flight_count");
        r.deferred += Int(c, "deferred_count");
        r.requeued += Int(c, "requeue_count");
        r.timed_out += Int(c, "timeout_count");
        r.messages += Int(c, "message_count");
        r.clients += Int(c, "client_count");
      }
    }
  }
  return Status::Ok();
}

void PrintHeader() {
  std::printf("%-24s %9s %9s %9s %9s %9s %9s %9s %11s %7s %9s\n", "channel", "depth", "mem", "disk",
              "in-flight", "deferred", "requeued", "timed-out", "messages", "clients", "msgs/s");
}

int RunStat(const StatOptions& o) {
  if (!IsValidTopicName(o.topic)) return Fail("stat", "invalid topic name \"" + o.topic + "\"");
  if (!o.channel.empty() && !IsValidChannelName(o.channel)) {
    return Fail("stat", "invalid channel name \"" + o.channel + "\"");
  }
  auto every = ParseGoDuration(o.status_every);
  if (!every || every->count() <= 0) {
    return Fail("stat", "--status-every: invalid duration \"" + o.status_every + "\"");
  }
  if (o.count < 0) return Fail("stat", "--count must be >= 0");
  StatOptions opts = o;
  if (opts.qd_http.empty() && opts.lookupd_http.empty()) opts.qd_http.push_back(kDefaultQdHttpAddress);
  BlockStopSignals();
  std::map<std::string, ChannelRow> previous;
  auto previous_at = std::chrono::steady_clock::now();
  int lines = 0;
  for (int64_t round = 0; o.count == 0 || round < o.count; ++round) {
    if (round > 0) {
      auto until = std::chrono::steady_clock::now() + *every;
      if (WaitForSignalOr([&] { return std::chrono::steady_clock::now() >= until; })) break;
    }
    std::map<std::string, ChannelRow> rows;
    Status s = Sample(opts, &rows);
    if (!s.ok()) return Fail("stat", s.message());
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - previous_at).count();
    if (lines % 25 == 0) PrintHeader();
    if (rows.empty()) {
      std::printf("%-24s (no channels)\n", o.channel.empty() ? o.topic.c_str() : o.channel.c_str());
      ++lines;
    }
    for (const auto& [name, r] : rows) {
      char rate[32] = "-";
      auto prev = previous.find(name);
      if (prev != previous.end() && secs > 0) {
        std::snprintf(rate, sizeof(rate), "%.1f",
                      static_cast<double>(r.messages - prev->second.messages) / secs);
      }
      std::printf("%-24s %9lld %9lld %9lld %9lld %9lld %9lld %9lld %11lld %7lld %9s\n",
                  name.c_str(), (long long)r.depth, (long long)(r.depth - r.backend_depth),
                  (long long)r.backend_depth, (long long)r.in_flight, (long long)r.deferred,
                  (long long)r.requeued, (long long)r.timed_out, (long long)r.messages,
                  (long long)r.clients, rate);
      ++lines;
    }
    std::fflush(stdout);
    previous = std::move(rows);
    previous_at = now;
  }
  return 0;
}

}  // namespace

void AddStatCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<StatOptions>();
  CLI::App* cmd = app.add_subcommand("stat", "Print a topic's channel statistics every few seconds");
  cmd->add_option("--nsqd-http-address,--qd-http-address", o->qd_http,
                  "qd HTTP address (repeatable; default 127.0.0.1:4151 when no lookupd is given)");
  cmd->add_option("--lookupd-http-address", o->lookupd_http,
                  "qlookupd HTTP address; every producer of the topic is asked (repeatable)");
  cmd->add_option("--topic", o->topic, "topic")->required();
  cmd->add_option("--channel", o->channel, "only this channel (default: all)");
  cmd->add_option("--status-every", o->status_every, "time between rows (Go duration)")
      ->capture_default_str();
  cmd->add_option("--count", o->count, "rounds to print, then exit (0: until interrupted)")
      ->capture_default_str();
  cmd->footer(
      "mem = depth - disk; msgs/s is the channel's message rate since the previous round.\n"
      "Examples:\n"
      "  qctl stat --topic events\n"
      "  qctl stat --topic events --channel archive --lookupd-http-address 10.0.0.2:4161 \\\n"
      "      --status-every 5s --count 12");
  cmd->callback([o, exit_code] { *exit_code = RunStat(*o); });
}

}  // namespace q::cli
