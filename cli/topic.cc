// qctl topic create|delete|pause|unpause|empty over qd's HTTP API (what nsqadmin's topic page
// does).
#include "cli/admin_action.h"
#include "cli/commands.h"

namespace q::cli {

void AddTopicCommand(CLI::App& app, int* exit_code) {
  AddAdminCommands(app, "topic",
                   {{"create", "Create a topic (on every qd lookupd knows, with lookupd)"},
                    {"delete", "Delete a topic, its channels and messages"},
                    {"pause", "Stop delivering the topic's messages to its channels"},
                    {"unpause", "Resume delivery to the channels"},
                    {"empty", "Drop the messages queued in the topic (channels untouched)"}},
                   exit_code);
}

}  // namespace q::cli
