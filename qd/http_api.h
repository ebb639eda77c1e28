// qd's HTTP API, path for path and error for error as nsqd's (spec: qd-http-api.md):
// /ping /info /pub /mpub /stats /topic/* /channel/* /config/*. Handlers run on httplib's
// threads: they validate, then run the effect on the topic's shard and wait for it.
#pragma once
#include <memory>
#include <vector>

namespace httplib {
class Server;
}

namespace q {

class Qd;

// Serves one API (one /config state) on every server given (HTTP and HTTPS). Returns the
// handlers' state; keep it alive as long as the servers run.
std::shared_ptr<void> RegisterHttpApi(const std::vector<httplib::Server*>& servers, Qd& qd);

}  // namespace q
