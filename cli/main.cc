// qctl: the command-line tool for qd (one binary, one subcommand per NSQ tool it replaces).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "common/log.h"

namespace q::cli {

int Fail(const std::string& cmd, const std::string& message) {
  std::cerr << "qctl " << cmd << ": " << message << std::endl;
  return 1;
}

namespace {
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void BlockStopSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool WaitForSignalOr(const std::function<bool()>& done) {
  sigset_t set = StopSignals();
  timespec tick{0, 100 * 1000 * 1000};
  while (!done()) {
    if (sigtimedwait(&set, nullptr, &tick) > 0) return true;
  }
  return false;
}

}  // namespace q::cli

int main(int argc, char** argv) {
  CLI::App app{"qctl: publish, consume, forward, inspect and administer qd topics (NSQ-compatible)", "qctl"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(Q_VERSION));
  // Library logs (reconnects, ...) stay quiet unless asked for, so an error is one line.
  std::string log_level = "error";
  app.add_option("--log-level", log_level, "debug, info, warn, error or fatal")
      ->capture_default_str();
  app.parse_complete_callback([&] {
    auto level = q::ParseLogLevel(log_level);
    if (!level) throw CLI::ValidationError("--log-level", "unknown level \"" + log_level + "\"");
    q::Logger::SetLevel(*level);
    q::Logger::SetPrefix("[qctl] ");
  });
  int exit_code = 0;
  q::cli::AddPubCommand(app, &exit_code);
  q::cli::AddTailCommand(app, &exit_code);
  q::cli::AddBenchCommand(app, &exit_code);
  q::cli::AddStatCommand(app, &exit_code);
  q::cli::AddToFileCommand(app, &exit_code);
  q::cli::AddToHttpCommand(app, &exit_code);
  q::cli::AddForwardCommand(app, &exit_code);
  q::cli::AddTopicCommand(app, &exit_code);
  q::cli::AddChannelCommand(app, &exit_code);
  q::cli::AddTxCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
