#include "common/http_request.h"

#include <httplib.h>

#include <cctype>

namespace q {

namespace {

// httplib's error names ("Connection", "Read") read badly alone in a one-line error.
std::string HttpErrorText(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "connection refused or unreachable";
    case httplib::Error::ConnectionTimeout:
      return "connect timed out";
    case httplib::Error::Read:
      return "read failed or timed out";
    case httplib::Error::Write:
      return "write failed";
    default:
      return httplib::to_string(e) + " error";
  }
}

}  // namespace

HttpResult HttpRequest(const std::string& method, const std::string& address, const std::string& path,
                       std::chrono::milliseconds timeout) {
  HttpResult result;
  std::string base = address;
  if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0) base = "http://" + base;
  httplib::Client cli(base);
  if (!cli.is_valid()) {
    result.bad_address = true;
    result.error = "invalid address";
    return result;
  }
  cli.set_connection_timeout(timeout);
  cli.set_read_timeout(timeout);
  cli.set_write_timeout(timeout);
  httplib::Headers headers{{"Accept", "application/vnd.nsq; version=1.0"}};
  auto res = method == "POST" ? cli.Post(path, headers, "", "text/plain") : cli.Get(path, headers);
  if (!res) {
    result.error = HttpErrorText(res.error());
    return result;
  }
  result.status = res->status;
  result.body = std::move(res->body);
  return result;
}

std::optional<UrlParts> SplitUrl(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  size_t target = url.find_first_of("/?", scheme_end + 3);
  UrlParts parts;
  parts.scheme_host_port = url.substr(0, target == std::string::npos ? url.size() : target);
  parts.target = target == std::string::npos ? "/" : url.substr(target);
  if (parts.target[0] == '?') parts.target = "/" + parts.target;
  return parts;
}

std::string QueryEscape(const std::string& v) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace q
