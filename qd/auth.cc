#include "qd/auth.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <random>

#include "common/http_request.h"

namespace q {

namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// --auth-http-address: "host:port" asks http://host:port/auth, a URL is asked as given.
UrlParts ParseAddress(const std::string& address) {
  if (std::optional<UrlParts> url = SplitUrl(address)) return *url;
  return {"http://" + address, "/auth"};
}

std::optional<AuthState> Parse(const std::string& body, std::string* error) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "auth server answered invalid JSON";
    return std::nullopt;
  }
  try {
    AuthState s;
    int64_t ttl = j.value("ttl", int64_t{0});
    if (ttl <= 0) {
      *error = "auth server answered ttl " + std::to_string(ttl);
      return std::nullopt;
    }
    s.expires_at = SteadyNs() + ttl * 1'000'000'000;
    s.identity = j.value("identity", std::string());
    s.identity_url = j.value("identity_url", std::string());
    for (const auto& a : j.value("authorizations", nlohmann::json::array())) {
      Authorization auth;
      auth.topic = std::regex(a.at("topic").get<std::string>());
      for (const auto& c : a.value("channels", nlohmann::json::array())) auth.channels.emplace_back(c.get<std::string>());
      for (const auto& p : a.value("permissions", nlohmann::json::array())) {
        std::string perm = p.get<std::string>();
        if (perm == "publish") auth.publish = true;
        else if (perm == "subscribe") auth.subscribe = true;
        else {
          *error = "auth server answered unknown permission " + perm;
          return std::nullopt;
        }
      }
      s.authorizations.push_back(std::move(auth));
    }
    return s;
  } catch (const std::exception& e) {
    *error = std::string("auth server answered an invalid document: ") + e.what();
    return std::nullopt;
  }
}

}  // namespace

std::optional<AuthState> QueryAuthServer(const AuthRequest& r, std::string* error) {
  if (r.addresses.empty()) {
    *error = "no auth server configured";
    return std::nullopt;
  }
  static thread_local std::minstd_rand rng{std::random_device{}()};
  size_t start = rng() % r.addresses.size();
  for (size_t i = 0; i < r.addresses.size(); ++i) {
    UrlParts url = ParseAddress(r.addresses[(start + i) % r.addresses.size()]);
    httplib::Client cli(url.scheme_host_port);
    cli.set_connection_timeout(r.connect_timeout);
    cli.set_read_timeout(r.request_timeout);
    std::string tls = r.tls ? "true" : "false";
    nlohmann::json post_body = {{"remote_ip", {r.remote_ip}}, {"tls", {tls}}, {"secret", {r.secret}},
                                {"common_name", {r.common_name}}};
    httplib::Params params{{"remote_ip", r.remote_ip}, {"tls", tls}, {"secret", r.secret}, {"common_name", r.common_name}};
    httplib::Result res = r.method == "post" ? cli.Post(url.target.c_str(), post_body.dump(), "application/json")
                                             : cli.Get(url.target.c_str(), params, httplib::Headers{});
    if (!res) {
      *error = url.scheme_host_port + url.target + ": " + httplib::to_string(res.error());
      continue;
    }
    if (res->status != 200) {
      *error = url.scheme_host_port + url.target + ": HTTP " + std::to_string(res->status);
      continue;
    }
    if (auto state = Parse(res->body, error)) return state;
  }
  return std::nullopt;
}

bool IsAuthorized(const AuthState& state, bool publish, const std::string& topic, const std::string& channel) {
  for (const Authorization& a : state.authorizations) {
    if (publish ? !a.publish : !a.subscribe) continue;
    if (!std::regex_search(topic, a.topic)) continue;
    for (const auto& c : a.channels)
      if (std::regex_search(channel, c)) return true;
  }
  return false;
}

}  // namespace q
