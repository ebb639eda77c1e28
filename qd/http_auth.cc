#include "qd/http_auth.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>

#include "common/http_router.h"
#include "common/log.h"

namespace q {

namespace {

constexpr size_t kMaxCachedGrants = 1024;

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string PeerCommonName(const httplib::Request& req) {
  if (!req.ssl) return "";
  X509* cert = SSL_get1_peer_certificate(req.ssl);
  if (!cert) return "";
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

}  // namespace

std::optional<AuthState> HttpAuth::Grant(const httplib::Request& req, const std::string& secret) {
  std::string common_name = PeerCommonName(req);
  std::string key = secret + '\n' + req.remote_addr + '\n' + common_name;
  int64_t now = SteadyNs();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now < it->second.expires_at) return it->second;
  }
  AuthRequest request;
  request.addresses = options_.auth_http_addresses;
  request.method = options_.auth_http_request_method;
  request.remote_ip = req.remote_addr;
  request.secret = secret;
  request.tls = req.ssl != nullptr;
  request.common_name = common_name;
  request.connect_timeout = options_.http_client_connect_timeout;
  request.request_timeout = options_.http_client_request_timeout;
  std::string error;
  std::optional<AuthState> state = QueryAuthServer(request, &error);
  if (!state) {
    LOG_WARN("HTTP: [", req.remote_addr, "] ", req.path, " auth server: ", error);
    return std::nullopt;
  }
  std::lock_guard lock(mu_);
  // Expired grants pile up only as fast as distinct secrets arrive; start over when many.
  if (cache_.size() >= kMaxCachedGrants) cache_.clear();
  cache_[key] = *state;
  return state;
}

bool HttpAuth::Allow(const httplib::Request& req, Need need, httplib::Response& res) {
  if (!enabled()) return true;
  std::string secret = req.get_header_value(kHttpAuthHeader);
  if (secret.empty()) {
    http::Error(res, 401, "AUTH_REQUIRED");
    return false;
  }
  std::optional<AuthState> state = Grant(req, secret);
  if (!state) {
    http::Error(res, 401, "AUTH_FAILED");
    return false;
  }
  bool allowed = !state->authorizations.empty();
  auto topic = http::Param(req, "topic");
  if (allowed && need == Need::kPublish && topic) {
    allowed = IsAuthorized(*state, true, *topic, "");
  } else if (allowed && need == Need::kSubscribe && topic) {
    auto channel = http::Param(req, "channel");
    if (channel) allowed = IsAuthorized(*state, false, *topic, *channel);
  }
  if (!allowed) {
    http::Error(res, 403, "UNAUTHORIZED");
    return false;
  }
  return true;
}

}  // namespace q
