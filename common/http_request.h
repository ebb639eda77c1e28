// One HTTP request from a tool or the client library to qd or qlookupd (or nsqd/nsqlookupd),
// in the form NSQ's own tools use: the Accept header that asks for the 1.0 JSON answers, and
// one timeout for connecting, each read and each write.
#pragma once
#include <chrono>
#include <optional>
#include <string>

namespace q {

struct HttpResult {
  bool bad_address = false;  // address is not host:port or http(s)://host:port; nothing sent
  std::string error;         // why no answer arrived, in a few words; empty when answered
  int status = 0;            // the answer's status, any value
  std::string body;
};

// method "GET" or "POST" (an empty body); address "host:port" or "http(s)://host:port";
// path with its query string. Blocks for at most about 3 * timeout.
HttpResult HttpRequest(const std::string& method, const std::string& address, const std::string& path,
                       std::chrono::milliseconds timeout);

// An http(s) URL cut where its request target begins.
struct UrlParts {
  std::string scheme_host_port;  // "http://h:p"
  std::string target;            // path and query; "/" when the URL has neither
};
// Cuts "scheme://host[:port][/path][?query]" at the first '/' or '?' after the host; nullopt
// without "://". Checks nothing else: callers that take URLs from outside check the parts.
std::optional<UrlParts> SplitUrl(const std::string& url);

// Percent-encodes a query-string value.
std::string QueryEscape(const std::string& v);

}  // namespace q
