#include "common/command_line.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <sstream>

namespace q {

std::optional<CommandLineExit> ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                                                const ConfigAliases& aliases, std::string_view program) {
  std::vector<std::string> args = NormaliseGoArgs(argc, argv);
  if (std::string error; !PrependConfigFile(&args, aliases, &error)) {
    return CommandLineExit{1, std::string(program) + ": " + error};
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes argv-style input reversed
  try {
    app.parse(args);
  } catch (const CLI::Success& e) {
    std::ostringstream out;
    app.exit(e, out, out);
    return CommandLineExit{0, out.str()};
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    CommandLineExit result{app.exit(e, out, out), out.str()};
    if (result.message.empty()) result.message = std::string(program) + ": " + e.what();
    return result;
  }
  return std::nullopt;
}

}  // namespace q
