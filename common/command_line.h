// The daemons' (qd, qlookupd, qadmin) shared way from argv to a parsed CLI11 app: Go-style
// flags normalised, a --config file's flags put before the command line's own, then CLI11.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "common/go_flags.h"

namespace CLI {
class App;
}

namespace q {

// Why the process should exit instead of running, and what main prints before it does.
struct CommandLineExit {
  int exit_code = 0;    // 0 for --help/--version, non-zero for a bad flag or config file
  std::string message;  // usage, version, or one error line starting with "<program>: "
};

// Parses argc/argv into app's options (see NormaliseGoArgs and PrependConfigFile for the
// accepted forms). nullopt when the options are set and the daemon should go on checking
// them; otherwise the exit to take. program prefixes error lines ("qd").
std::optional<CommandLineExit> ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                                                const ConfigAliases& aliases, std::string_view program);

}  // namespace q
