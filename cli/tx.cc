// qctl tx list|commit|rollback: the half messages of transactional publishing
// (docs/transactions.md) over qd's HTTP API: GET /tx/list, POST /txcommit, POST /txrollback.
// For an operator deciding by hand what no producer can answer for any more.
#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/http_call.h"
#include "client/tx_names.h"
#include "common/names.h"

namespace q::cli {

namespace {

struct TxOptions {
  std::vector<std::string> qd_http;
  std::vector<std::string> lookupd_http;
  std::string topic;
  std::string txid;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "850ms", "12s", "4m05s", "3h02m": short enough for a table column.
std::string FormatDuration(int64_t ns) {
  if (ns < 0) ns = 0;
  int64_t ms = ns / 1000000;
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof(buf), "%lldms", static_cast<long long>(ms));
  } else if (ms < 60 * 1000) {
    std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(ms) / 1000);
  } else if (ms < 3600 * 1000) {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(ms / 60000),
                  static_cast<long long>(ms / 1000 % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(ms / 3600000),
                  static_cast<long long>(ms / 60000 % 60));
  }
  return buf;
}

// The qd column, shown only when several qd were asked.
std::string Prefix(bool many, const std::string& qd) {
  if (!many) return "";
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%-21s ", qd.c_str());
  return buf;
}

template <class T>
T Field(const nlohmann::json& j, const char* key, T def) {
  if (!j.is_object() || !j.contains(key)) return def;
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    return def;
  }
}

int RunList(const TxOptions& in) {
  const std::string cmd = "tx list";
  TxOptions o = in;
  if (!o.topic.empty() && !IsValidTopicName(o.topic)) {
    return Fail(cmd, "invalid topic name \"" + o.topic + "\"");
  }
  if (o.qd_http.empty() && o.lookupd_http.empty()) o.qd_http.push_back(kDefaultQdHttpAddress);
  std::vector<std::string> qds;
  Status s = QdHttpAddresses(o.qd_http, o.lookupd_http, o.topic, &qds);
  if (!s.ok()) return Fail(cmd, s.message());
  if (qds.empty()) return Fail(cmd, "no qd has topic \"" + o.topic + "\"");
  std::string path = "/tx/list";
  if (!o.topic.empty()) path += "?topic=" + QueryEscape(o.topic);

  int64_t now = NowNs();
  bool many = qds.size() > 1;
  int pending = 0;
  std::vector<std::string> expired_lines;
  for (const auto& qd : qds) {
    HttpAnswer answer;
    s = HttpCall("GET", qd, path, &answer);
    nlohmann::json j;
    if (s.ok()) s = ParseJson(qd, answer.body, &j);
    if (s.ok() && (!j.is_object() || !j.contains("topics") || !j["topics"].is_array())) {
      s = Status::Error("GET " + qd + path + ": no \"topics\" in the answer");
    }
    if (!s.ok()) return Fail(cmd, s.message());
    for (const auto& t : j["topics"]) {
      std::string topic = Field<std::string>(t, "topic_name", "?");
      if (t.contains("half_messages") && t["half_messages"].is_array()) {
        for (const auto& h : t["half_messages"]) {
          if (pending++ == 0) {
            std::printf("%s%-24s %-28s %-16s %8s %6s %10s %8s  %s\n", Prefix(many, "QD").c_str(),
                        "TOPIC", "TXID", "GROUP", "AGE", "CHECKS", "NEXT CHECK", "BYTES",
                        "CHECK URL");
          }
          int64_t ts = Field<int64_t>(h, "timestamp", now);
          int64_t next = Field<int64_t>(h, "next_check_at", 0);  // 0: none scheduled
          std::string url = Field<std::string>(h, "check_url", "");
          std::string group = Field<std::string>(h, "tx_group", "");
          std::printf("%s%-24s %-28s %-16s %8s %6lld %10s %8lld  %s\n",
                      Prefix(many, qd).c_str(),
                      topic.c_str(), Field<std::string>(h, "txid", "?").c_str(),
                      group.empty() ? "-" : group.c_str(), FormatDuration(now - ts).c_str(),
                      static_cast<long long>(Field<int64_t>(h, "checks", 0)),
                      next == 0 ? "-" : ("in " + FormatDuration(next - now)).c_str(),
                      static_cast<long long>(Field<int64_t>(h, "body_size", 0)),
                      url.empty() ? "-" : url.c_str());
        }
      }
      if (t.contains("expired") && t["expired"].is_array()) {
        for (const auto& e : t["expired"]) {
          char line[512];
          std::string group = Field<std::string>(e, "tx_group", "");
          std::snprintf(line, sizeof(line), "%s%-24s %-28s %-16s %s ago",
                        Prefix(many, qd).c_str(), topic.c_str(),
                        Field<std::string>(e, "txid", "?").c_str(),
                        group.empty() ? "-" : group.c_str(),
                        FormatDuration(now - Field<int64_t>(e, "expired_at", now)).c_str());
          expired_lines.push_back(line);
        }
      }
    }
  }
  if (pending == 0) {
    std::printf("no pending half messages%s\n",
                o.topic.empty() ? "" : (" on topic " + o.topic).c_str());
  }
  if (!expired_lines.empty()) {
    std::printf("\nexpired (no decision after --tx-max-checks check-backs; discarded):\n");
    std::printf("%s%-24s %-28s %-16s %s\n", Prefix(many, "QD").c_str(), "TOPIC", "TXID", "GROUP",
                "EXPIRED");
    for (const auto& l : expired_lines) std::printf("%s\n", l.c_str());
  }
  return 0;
}

int RunDecide(const std::string& action, const TxOptions& in) {
  const std::string cmd = "tx " + action;
  TxOptions o = in;
  if (!IsValidTopicName(o.topic)) return Fail(cmd, "invalid topic name \"" + o.topic + "\"");
  if (!IsValidTxid(o.txid)) {
    return Fail(cmd, "invalid txid \"" + o.txid + "\" (1-64 characters of [.a-zA-Z0-9_:-])");
  }
  if (o.qd_http.empty() && o.lookupd_http.empty()) o.qd_http.push_back(kDefaultQdHttpAddress);
  std::vector<std::string> qds;
  Status s = QdHttpAddresses(o.qd_http, o.lookupd_http, o.topic, &qds);
  if (!s.ok()) return Fail(cmd, s.message());
  if (qds.empty()) return Fail(cmd, "no qd has topic \"" + o.topic + "\"");
  std::string path = "/tx" + action + "?topic=" + QueryEscape(o.topic) + "&txid=" + QueryEscape(o.txid);
  // The half message lives on one qd: the others answer 404 TX_UNKNOWN, which is only an
  // error when no qd had it.
  std::vector<std::string> errors;
  bool done = false;
  for (const auto& qd : qds) {
    HttpAnswer answer;
    s = HttpCall("POST", qd, path, &answer);
    if (s.ok()) {
      std::printf("%s %s/%s: done on %s\n", action.c_str(), o.topic.c_str(), o.txid.c_str(),
                  qd.c_str());
      done = true;
    } else if (qds.size() == 1 || answer.status != 404) {
      errors.push_back(s.message());
    }
  }
  for (const auto& e : errors) Fail(cmd, e);
  if (!done && errors.empty()) {
    return Fail(cmd, "TX_UNKNOWN: no qd holds txid \"" + o.txid + "\" of topic \"" + o.topic + "\"");
  }
  return errors.empty() ? 0 : 1;
}

void AddAddressFlags(CLI::App* cmd, TxOptions* o) {
  cmd->add_option("--nsqd-http-address,--qd-http-address", o->qd_http,
                  "qd HTTP address (repeatable; default 127.0.0.1:4151 when no lookupd is given)");
  cmd->add_option("--lookupd-http-address", o->lookupd_http,
                  "qlookupd HTTP address: ask every qd it lists for the topic (repeatable)");
}

}  // namespace

void AddTxCommand(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand(
      "tx", "List, commit or roll back the half messages of transactional publishing");
  group->require_subcommand(1);

  auto list = std::make_shared<TxOptions>();
  CLI::App* l = group->add_subcommand(
      "list", "Show pending half messages (age, check-backs so far, next check) and expired ones");
  AddAddressFlags(l, list.get());
  l->add_option("--topic", list->topic, "only this topic");
  l->footer(
      "Examples:\n"
      "  qctl tx list\n"
      "  qctl tx list --topic orders --nsqd-http-address 10.0.0.5:4151");
  l->callback([list, exit_code] { *exit_code = RunList(*list); });

  for (const char* action : {"commit", "rollback"}) {
    auto o = std::make_shared<TxOptions>();
    std::string a = action;
    CLI::App* c = group->add_subcommand(
        a, a == "commit" ? "Commit a half message: it becomes visible to every channel, once"
                         : "Roll back a half message: it is discarded, never visible");
    AddAddressFlags(c, o.get());
    c->add_option("--topic", o->topic, "topic of the half message")->required();
    c->add_option("--txid", o->txid, "its transaction id (see `qctl tx list`)")->required();
    c->footer("Examples:\n  qctl tx " + a + " --topic orders --txid o-1001\n  qctl tx " + a +
              " --topic orders --txid o-1001 --nsqd-http-address 10.0.0.5:4151\n"
              "Fails with TX_UNKNOWN when no such half message is pending (never published,\n"
              "expired), TX_DECIDED when it was decided the other way already.");
    c->callback([o, a, exit_code] { *exit_code = RunDecide(a, *o); });
  }
}

}  // namespace q::cli
