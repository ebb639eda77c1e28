#include "lookupd/options.h"

#include <CLI/CLI.hpp>

#include "common/command_line.h"
#include "common/duration.h"

namespace q::lookupd {

ParseResult ParseOptions(int argc, const char* const* argv) {
  Options o;
  ParseResult result;
  CLI::App app{"qlookupd: the topology directory, a drop-in for nsqlookupd", "qlookupd"};
  app.set_version_flag("--version", std::string("qlookupd v") + Q_VERSION + " (nsqlookupd-compatible)");
  app.get_formatter()->column_width(40);

  std::string config_path, log_level = "info";
  std::string inactive_producer_timeout = FormatGoDuration(o.inactive_producer_timeout);
  std::string tombstone_lifetime = FormatGoDuration(o.tombstone_lifetime);
  bool verbose = false;
  app.add_option("--config", config_path, "path to a TOML config file (keys are flag names with _)");
  app.add_option("--log-level", log_level, "debug, info, warn, error or fatal")->default_str("info");
  app.add_option("--log-prefix", o.log_prefix, "prefix of every log line")->default_str(o.log_prefix);
  app.add_flag("--verbose", verbose, "[deprecated] same as --log-level=debug");
  app.add_option("--tcp-address", o.tcp_address, "<addr>:<port> to listen on for TCP clients")
      ->capture_default_str();
  app.add_option("--http-address", o.http_address, "<addr>:<port> to listen on for HTTP clients")
      ->capture_default_str();
  app.add_option("--broadcast-address", o.broadcast_address,
                 "address of this lookupd node, (default to the OS hostname)");
  app.add_option("--inactive-producer-timeout", inactive_producer_timeout,
                 "duration of time a producer will remain in the active list since its last ping")
      ->default_str(inactive_producer_timeout);
  app.add_option("--tombstone-lifetime", tombstone_lifetime,
                 "duration of time a producer will remain tombstoned if registration remains")
      ->default_str(tombstone_lifetime);

  // nsqlookupd's config keys are its flag names with '_' and need no aliases.
  if (auto exit = ParseCommandLine(app, argc, argv, {}, "qlookupd")) {
    result.exit_code = exit->exit_code;
    result.message = std::move(exit->message);
    return result;
  }

  auto fail = [&](const std::string& msg) {
    result.exit_code = 1;
    result.message = "qlookupd: " + msg;
    return result;
  };
  auto duration = [](const std::string& text, Nanos* out) {
    auto v = ParseGoDuration(text);
    if (!v || *v < Nanos::zero()) return false;
    *out = *v;
    return true;
  };
  if (!duration(inactive_producer_timeout, &o.inactive_producer_timeout))
    return fail("invalid value \"" + inactive_producer_timeout +
                "\" for flag --inactive-producer-timeout: expected a duration such as 300s, 5m");
  if (!duration(tombstone_lifetime, &o.tombstone_lifetime))
    return fail("invalid value \"" + tombstone_lifetime +
                "\" for flag --tombstone-lifetime: expected a duration such as 45s, 1m");
  auto level = ParseLogLevel(log_level);
  if (!level) return fail("invalid --log-level \"" + log_level + "\" (debug, info, warn, error, fatal)");
  o.log_level = verbose ? LogLevel::kDebug : *level;
  result.options = std::move(o);
  return result;
}

}  // namespace q::lookupd
