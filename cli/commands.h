// qctl subcommands: each file registers one subcommand on the app. The callback stores the
// process exit code in *exit_code; errors are printed as one line "qctl <cmd>: <reason>".
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace q::cli {

inline constexpr const char* kDefaultQdTcpAddress = "127.0.0.1:4150";

void AddPubCommand(CLI::App& app, int* exit_code);
void AddTailCommand(CLI::App& app, int* exit_code);
void AddBenchCommand(CLI::App& app, int* exit_code);
void AddBenchIdleCommand(CLI::App* bench, int* exit_code);   // from AddBenchCommand
void AddBenchFsyncCommand(CLI::App* bench, int* exit_code);  // from AddBenchCommand
void AddStatCommand(CLI::App& app, int* exit_code);
void AddToFileCommand(CLI::App& app, int* exit_code);
void AddToHttpCommand(CLI::App& app, int* exit_code);
void AddForwardCommand(CLI::App& app, int* exit_code);
void AddTopicCommand(CLI::App& app, int* exit_code);
void AddChannelCommand(CLI::App& app, int* exit_code);
void AddTxCommand(CLI::App& app, int* exit_code);

// Prints "qctl <cmd>: <message>" to stderr and returns 1.
int Fail(const std::string& cmd, const std::string& message);

// Blocks SIGINT/SIGTERM in the calling thread (call before starting threads) so that
// WaitForSignalOr() can receive them.
void BlockStopSignals();
// Returns when done() is true (polled every 100 ms) or SIGINT/SIGTERM arrived (returns true
// then).
bool WaitForSignalOr(const std::function<bool()>& done);

}  // namespace q::cli
