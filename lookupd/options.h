// qlookupd's settings, named and defaulted as nsqlookupd's flags are so that deployment
// scripts written for nsqlookupd start qlookupd unchanged (spec: lookupd.md §5).
#pragma once
#include <chrono>
#include <optional>
#include <string>

#include "common/log.h"

namespace q::lookupd {

using Nanos = std::chrono::nanoseconds;

struct Options {
  std::string tcp_address = "0.0.0.0:4160";
  std::string http_address = "0.0.0.0:4161";
  std::string broadcast_address;  // "": the hostname
  // A producer that has not pinged for this long is left out of /lookup and /nodes.
  Nanos inactive_producer_timeout = std::chrono::seconds(300);
  // How long /topic/tombstone hides a producer of a topic from /lookup.
  Nanos tombstone_lifetime = std::chrono::seconds(45);
  LogLevel log_level = LogLevel::kInfo;
  std::string log_prefix = "[qlookupd] ";
};

struct ParseResult {
  std::optional<Options> options;  // empty when the process should exit
  int exit_code = 0;               // for --help/--version (0) or a bad flag (1)
  std::string message;             // printed by main: usage, version or the error
};

// Parses nsqlookupd-style flags: "--name=value", "--name value" and Go's single-dash
// "-name=value"; durations in Go syntax ("300s", "1m"); --config names a TOML file of the
// same keys with '_' (flags on the command line win).
ParseResult ParseOptions(int argc, const char* const* argv);

}  // namespace q::lookupd
