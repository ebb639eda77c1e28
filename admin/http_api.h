// qadmin's HTTP surface under --base-path: the page (one HTML, one JS, one CSS file built into
// the binary) and the JSON API it uses.
//
// Reads (GET):   /api/topics  /api/topics/:topic  /api/topics/:topic/:channel
//                /api/nodes   /api/nodes/:node    /api/lookup
// Actions:       POST   /api/topics                 {"topic", "channel"?}  create via qlookupd
//                POST   /api/topics/:topic          {"action": pause|unpause|empty}
//                DELETE /api/topics/:topic
//                POST   /api/topics/:t/:channel     {"action": pause|unpause|empty}
//                DELETE /api/topics/:t/:channel
//                DELETE /api/nodes/:node?topic=T    (or POST {"action":"tombstone","topic"})
// Every read answers 200 with an "errors" array naming unreachable daemons; a read or action
// fails only when nothing could be reached. Actions need the ACL header when admin users are
// configured (403 FORBIDDEN otherwise) and are announced to the notification endpoint.
//
// Thread-safety: handlers run on httplib's threads; the state they share locks itself. The
// returned object must outlive the server.
#pragma once
#include <memory>

namespace httplib {
class Server;
}

namespace q::admin {

class ClusterInfo;
class Notifier;
class RateHistory;
struct Options;

std::shared_ptr<void> RegisterHttpApi(httplib::Server& server, const Options& options, const ClusterInfo& cluster,
                                      const RateHistory& history, Notifier& notifier);

}  // namespace q::admin
