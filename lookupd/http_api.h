// qlookupd's HTTP API, path for path and error for error as nsqlookupd's (spec: lookupd.md
// §4): /ping /info /debug /lookup /topics /channels /nodes and the POST edits /topic/create
// /topic/delete /channel/create /channel/delete /topic/tombstone. The edits change only this
// qlookupd's RegistrationDb; they never contact a qd.
//
// Thread-safety: handlers run on httplib's worker threads; the only state they touch is the
// RegistrationDb, which locks itself. The returned object must outlive the server.
#pragma once
#include <memory>

namespace httplib {
class Server;
}

namespace q::lookupd {

class RegistrationDb;

std::shared_ptr<void> RegisterHttpApi(httplib::Server& server, RegistrationDb& db);

}  // namespace q::lookupd
