// Authorization against an NSQ auth server (spec: qd-http-api.md §6). A client's AUTH
// secret is sent to one of --auth-http-address; the answer lists which topics and channels
// it may publish to or subscribe to, and for how long (ttl) before qd asks again.
//
// QueryAuthServer blocks on HTTP: call it off the shard threads (Qd::blocking()).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace q {

struct Authorization {
  std::regex topic;
  std::vector<std::regex> channels;
  bool publish = false;
  bool subscribe = false;
};

struct AuthState {
  std::string identity, identity_url;
  std::vector<Authorization> authorizations;
  int64_t expires_at = 0;  // steady-clock ns; ask again after this
};

struct AuthRequest {
  std::vector<std::string> addresses;  // "host:port" (→ http://host:port/auth) or full URLs
  std::string method = "get";          // get: query string; post: JSON body of string arrays
  std::string remote_ip, secret, common_name;
  bool tls = false;
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(2);
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(5);
};

// Tries the addresses from a random start until one answers 200 with a valid document.
// nullopt with *error (for the log, never for the client) otherwise.
std::optional<AuthState> QueryAuthServer(const AuthRequest& request, std::string* error);

// permission: "publish" (channel "") or "subscribe". Regexes match anywhere in the name,
// as NSQ's unanchored Go regexps do.
bool IsAuthorized(const AuthState& state, bool publish, const std::string& topic, const std::string& channel);

}  // namespace q
