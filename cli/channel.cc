// qctl channel create|delete|pause|unpause|empty over qd's HTTP API (what nsqadmin's channel
// page does).
#include "cli/admin_action.h"
#include "cli/commands.h"

namespace q::cli {

void AddChannelCommand(CLI::App& app, int* exit_code) {
  AddAdminCommands(app, "channel",
                   {{"create", "Create a channel of a topic"},
                    {"delete", "Delete a channel (its consumers are disconnected)"},
                    {"pause", "Stop delivering the channel's messages to consumers"},
                    {"unpause", "Resume delivery to consumers"},
                    {"empty", "Drop the channel's queued, in-flight and deferred messages"}},
                   exit_code);
}

}  // namespace q::cli
