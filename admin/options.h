// qadmin's settings, named and defaulted as nsqadmin's flags are so that scripts written for
// nsqadmin start qadmin unchanged.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"

namespace q::admin {

struct Options {
  std::string http_address = "0.0.0.0:4171";
  // Where the cluster is learnt from: the qlookupds (normal), or a fixed list of qd HTTP
  // addresses for a cluster without a lookupd. Exactly one of the two is set.
  std::vector<std::string> lookupd_http_addresses;
  std::vector<std::string> nsqd_http_addresses;
  // URL prefix the page and /api are served under, always starting and ending with '/'.
  std::string base_path = "/";
  // When non-empty, only requests whose acl_http_header names one of these may act.
  std::vector<std::string> admin_users;
  std::string acl_http_header = "X-Forwarded-User";
  std::string notification_http_endpoint;  // "": no notifications
  LogLevel log_level = LogLevel::kInfo;
  std::string log_prefix = "[qadmin] ";
};

struct ParseResult {
  std::optional<Options> options;  // empty when the process should exit
  int exit_code = 0;               // for --help/--version (0) or a bad flag (1)
  std::string message;             // printed by main: usage, version or the error
};

// Parses nsqadmin-style flags ("--name=value", "--name value", "-name=value"); the address
// flags repeat; --config names a TOML file of the same keys with '_'.
ParseResult ParseOptions(int argc, const char* const* argv);

}  // namespace q::admin
