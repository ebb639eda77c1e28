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
  auto secs = timeout.count() / 1000;
  auto usecs = (timeout.count() % 1000) * 1000;
  cli.set_connection_timeout(secs, usecs);
  cli.set_read_timeout(secs, usecs);
  cli.set_write_timeout(secs, usecs);
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
