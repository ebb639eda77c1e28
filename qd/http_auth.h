// HttpAuth: qd's opt-in guard for the HTTP API (--http-auth-required; nsqd has no such
// thing and never checks HTTP publishes). A request to a guarded endpoint carries its
// secret in the X-NSQ-Auth-Secret header; the secret is checked against the same auth
// server as TCP AUTH (auth.h) and the grant is cached for its ttl.
//
// Thread-safe: called from httplib's worker threads.
#pragma once
#include <httplib.h>

#include <map>
#include <mutex>
#include <string>

#include "qd/auth.h"
#include "qd/options.h"

namespace q {

inline constexpr const char* kHttpAuthHeader = "X-NSQ-Auth-Secret";

class HttpAuth {
 public:
  // What an endpoint needs from the grant.
  enum class Need {
    kPublish,    // publish on ?topic= (/pub, /mpub, /topic/*)
    kSubscribe,  // subscribe on ?topic= and ?channel= (/channel/*)
    kAnyGrant,   // any authorization at all (/config/* changes)
  };

  explicit HttpAuth(const Options& options) : options_(options) {}

  bool enabled() const { return options_.http_auth_required; }
  // True if the request may go on. Otherwise answers it: 401 AUTH_REQUIRED (no secret),
  // 401 AUTH_FAILED (refused or auth server unreachable), 403 UNAUTHORIZED (grant does
  // not cover it). A missing ?topic=/?channel= is left to the handler's 400.
  bool Allow(const httplib::Request& req, Need need, httplib::Response& res);

 private:
  std::optional<AuthState> Grant(const httplib::Request& req, const std::string& secret);

  const Options& options_;
  std::mutex mu_;
  std::map<std::string, AuthState> cache_;  // by secret, remote ip and certificate CN
};

}  // namespace q
