#include "cli/admin_action.h"

#include <cstdio>

#include "cli/commands.h"
#include "cli/http_call.h"
#include "common/names.h"

namespace q::cli {

namespace {

int RunAdmin(const std::string& kind, const std::string& action, AdminOptions o) {
  const std::string cmd = kind + " " + action;
  if (!IsValidTopicName(o.topic)) return Fail(cmd, "invalid topic name \"" + o.topic + "\"");
  if (kind == "channel" && !IsValidChannelName(o.channel)) {
    return Fail(cmd, "invalid channel name \"" + o.channel + "\"");
  }
  if (o.qd_http.empty() && o.lookupd_http.empty()) o.qd_http.push_back(kDefaultQdHttpAddress);
  // A topic to be created is known to no producer yet: create it on every node.
  bool all_nodes = kind == "topic" && action == "create";
  std::vector<std::string> qds;
  Status s = QdHttpAddresses(o.qd_http, o.lookupd_http, all_nodes ? "" : o.topic, &qds);
  if (!s.ok()) return Fail(cmd, s.message());
  if (qds.empty()) return Fail(cmd, "no qd has topic \"" + o.topic + "\"");
  std::string path = "/" + kind + "/" + action + "?topic=" + QueryEscape(o.topic);
  if (kind == "channel") path += "&channel=" + QueryEscape(o.channel);
  std::string what = kind == "topic" ? o.topic : o.topic + "/" + o.channel;
  int failures = 0;
  for (const auto& qd : qds) {
    HttpAnswer answer;
    s = HttpCall("POST", qd, path, &answer);
    if (!s.ok()) {
      Fail(cmd, s.message());
      ++failures;
      continue;
    }
    std::printf("%s %s: done on %s\n", action.c_str(), what.c_str(), qd.c_str());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

void AddAdminCommands(CLI::App& app, const std::string& kind,
                      const std::vector<std::pair<std::string, std::string>>& actions,
                      int* exit_code) {
  CLI::App* group = app.add_subcommand(kind, "Create, delete, pause, unpause or empty a " + kind);
  group->require_subcommand(1);
  for (const auto& [action, description] : actions) {
    auto o = std::make_shared<AdminOptions>();
    CLI::App* cmd = group->add_subcommand(action, description);
    cmd->add_option("--nsqd-http-address,--qd-http-address", o->qd_http,
                    "qd HTTP address (repeatable; default 127.0.0.1:4151 when no lookupd is given)");
    cmd->add_option("--lookupd-http-address", o->lookupd_http,
                    "qlookupd HTTP address: act on every qd it lists for the topic (repeatable)");
    cmd->add_option("--topic", o->topic, "topic")->required();
    if (kind == "channel") cmd->add_option("--channel", o->channel, "channel")->required();
    std::string example = "qctl " + kind + " " + action + " --topic events" +
                          (kind == "channel" ? " --channel archive" : "");
    cmd->footer("Examples:\n  " + example + "\n  " + example +
                " --lookupd-http-address 10.0.0.2:4161");
    std::string k = kind, a = action;
    cmd->callback([o, k, a, exit_code] { *exit_code = RunAdmin(k, a, *o); });
  }
}

}  // namespace q::cli
