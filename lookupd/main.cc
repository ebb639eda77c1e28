// qlookupd: the topology directory. Parses nsqlookupd-compatible flags, starts Lookupd, and
// shuts down cleanly on SIGINT or SIGTERM.
#include <cstdio>

#include "common/daemon_signals.h"
#include "common/log.h"
#include "lookupd/lookupd.h"
#include "lookupd/options.h"

int main(int argc, char** argv) {
  auto parsed = q::lookupd::ParseOptions(argc, argv);
  if (!parsed.options) {
    FILE* out = parsed.exit_code == 0 ? stdout : stderr;
    std::fputs(parsed.message.c_str(), out);
    if (!parsed.message.empty() && parsed.message.back() != '\n') std::fputc('\n', out);
    return parsed.exit_code;
  }
  q::lookupd::Options options = std::move(*parsed.options);
  q::Logger::SetLevel(options.log_level);
  q::Logger::SetPrefix(options.log_prefix);

  q::TerminationSignals signals;  // before any thread starts

  q::lookupd::Lookupd lookupd(std::move(options));
  std::string error;
  if (!lookupd.Start(&error)) {
    LOG_ERROR(error);
    lookupd.Stop();
    return 1;
  }
  LOG_INFO("qlookupd: received signal ", signals.Wait());
  lookupd.Stop();
  return 0;
}
