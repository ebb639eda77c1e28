// qadmin: the cluster's web UI. Parses nsqadmin-compatible flags, starts Admin, and shuts
// down cleanly on SIGINT or SIGTERM.
#include <cstdio>

#include "admin/admin.h"
#include "admin/options.h"
#include "common/daemon_signals.h"
#include "common/log.h"

int main(int argc, char** argv) {
  auto parsed = q::admin::ParseOptions(argc, argv);
  if (!parsed.options) {
    FILE* out = parsed.exit_code == 0 ? stdout : stderr;
    std::fputs(parsed.message.c_str(), out);
    if (!parsed.message.empty() && parsed.message.back() != '\n') std::fputc('\n', out);
    return parsed.exit_code;
  }
  q::admin::Options options = std::move(*parsed.options);
  q::Logger::SetLevel(options.log_level);
  q::Logger::SetPrefix(options.log_prefix);

  q::TerminationSignals signals;  // before any thread starts

  q::admin::Admin admin(std::move(options));
  std::string error;
  if (!admin.Start(&error)) {
    LOG_ERROR(error);
    admin.Stop();
    return 1;
  }
  LOG_INFO("qadmin: received signal ", signals.Wait());
  admin.Stop();
  return 0;
}
