// The HTTP admin actions behind `qctl topic ...` and `qctl channel ...`: POST
// /<kind>/<action>?topic=..[&channel=..] on one or more qd, given directly or found through
// qlookupd (every producer of the topic; for `topic create`, every node).
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

namespace q::cli {

struct AdminOptions {
  std::vector<std::string> qd_http;
  std::vector<std::string> lookupd_http;
  std::string topic;
  std::string channel;
};

// Adds `<kind> <action>` subcommands (kind "topic" or "channel") for each action.
void AddAdminCommands(CLI::App& app, const std::string& kind,
                      const std::vector<std::pair<std::string, std::string>>& actions,
                      int* exit_code);

}  // namespace q::cli
