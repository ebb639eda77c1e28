#include "admin/options.h"

#include <CLI/CLI.hpp>

#include "common/command_line.h"
#include "common/host_port.h"

namespace q::admin {

ParseResult ParseOptions(int argc, const char* const* argv) {
  Options o;
  ParseResult result;
  CLI::App app{"qadmin: the cluster's web UI, a drop-in for nsqadmin", "qadmin"};
  app.set_version_flag("--version", std::string("qadmin v") + Q_VERSION + " (nsqadmin-compatible)");
  app.get_formatter()->column_width(40);

  std::string config_path, log_level = "info";
  app.add_option("--config", config_path, "path to a TOML config file (keys are flag names with _)");
  app.add_option("--log-level", log_level, "debug, info, warn, error or fatal")->default_str("info");
  app.add_option("--log-prefix", o.log_prefix, "prefix of every log line")->default_str(o.log_prefix);
  app.add_option("--http-address", o.http_address, "<addr>:<port> to listen on for HTTP clients")
      ->capture_default_str();
  app.add_option("--lookupd-http-address", o.lookupd_http_addresses,
                 "lookupd HTTP address (may be given multiple times)");
  app.add_option("--nsqd-http-address", o.nsqd_http_addresses,
                 "qd HTTP address (may be given multiple times), for a cluster without a lookupd");
  app.add_option("--base-path", o.base_path, "URL base path")->capture_default_str();
  app.add_option("--admin-user", o.admin_users,
                 "admin user (may be given multiple times); if set, only these may act on the cluster");
  app.add_option("--acl-http-header", o.acl_http_header, "HTTP header to check for the admin user")
      ->capture_default_str();
  app.add_option("--notification-http-endpoint", o.notification_http_endpoint,
                 "HTTP endpoint (fully qualified) to which POST notifications of admin actions will be sent");

  const ConfigAliases aliases = {{"nsqlookupd-http-addresses", "lookupd-http-address"},
                                 {"nsqd-http-addresses", "nsqd-http-address"},
                                 {"admin-users", "admin-user"}};
  if (auto exit = ParseCommandLine(app, argc, argv, aliases, "qadmin")) {
    result.exit_code = exit->exit_code;
    result.message = std::move(exit->message);
    return result;
  }

  auto fail = [&](const std::string& msg) {
    result.exit_code = 1;
    result.message = "qadmin: " + msg;
    return result;
  };
  // The same rules as nsqadmin: one source of topology, never both.
  if (o.lookupd_http_addresses.empty() && o.nsqd_http_addresses.empty())
    return fail("--nsqd-http-address or --lookupd-http-address required");
  if (!o.lookupd_http_addresses.empty() && !o.nsqd_http_addresses.empty())
    return fail("use --nsqd-http-address or --lookupd-http-address not both");
  for (const auto* list : {&o.lookupd_http_addresses, &o.nsqd_http_addresses}) {
    for (const auto& a : *list) {
      std::string host;
      int port = 0;
      if (!ParseHostPort(a, &host, &port) || port == 0)
        return fail("invalid HTTP address \"" + a + "\" (want host:port)");
    }
  }
  const std::string& endpoint = o.notification_http_endpoint;
  if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
    return fail("--notification-http-endpoint must be an http:// or https:// URL");
  if (o.base_path.empty() || o.base_path[0] != '/') o.base_path = "/" + o.base_path;
  if (o.base_path.back() != '/') o.base_path += '/';
  auto level = ParseLogLevel(log_level);
  if (!level) return fail("invalid --log-level \"" + log_level + "\" (debug, info, warn, error, fatal)");
  o.log_level = *level;
  result.options = std::move(o);
  return result;
}

}  // namespace q::admin
