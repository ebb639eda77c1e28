// qlookupd: the topology directory. Parses nsqlookupd-compatible flags, starts Lookupd, and
// shuts down cleanly on SIGINT or SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdio>

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

  // Signals are taken by sigwait below, not by whichever thread happens to run.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  q::lookupd::Lookupd lookupd(std::move(options));
  std::string error;
  if (!lookupd.Start(&error)) {
    LOG_ERROR(error);
    lookupd.Stop();
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  LOG_INFO("qlookupd: received signal ", sig == SIGINT ? "SIGINT" : "SIGTERM");
  lookupd.Stop();
  return 0;
}
