#include "qd/tx_check.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "common/byte_order.h"

namespace q {

std::string EncodeTxCheck(const std::string& topic, const HalfMessage& h, const std::string& body) {
  std::string out;
  out.reserve(2 + topic.size() + 2 + h.txid.size() + 2 + 8 + 16 + body.size());
  AppendBE16(out, static_cast<uint16_t>(topic.size()));
  out += topic;
  AppendBE16(out, static_cast<uint16_t>(h.txid.size()));
  out += h.txid;
  AppendBE16(out, static_cast<uint16_t>(std::min(h.checks, 65535)));
  AppendBE64(out, static_cast<uint64_t>(h.timestamp));
  out.append(h.id.view());
  out += body;
  return out;
}

namespace {
struct SplitUrl {
  std::string scheme_host_port;
  std::string path_query;
};

std::optional<SplitUrl> Split(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  size_t host_start = scheme_end + 3;
  size_t path = url.find_first_of("/?", host_start);
  std::string host = url.substr(host_start, path == std::string::npos ? std::string::npos : path - host_start);
  if (host.empty() || host.find_first_of(" \t\r\n@") != std::string::npos) return std::nullopt;
  SplitUrl s;
  s.scheme_host_port = url.substr(0, path == std::string::npos ? url.size() : path);
  s.path_query = path == std::string::npos ? "/" : url.substr(path);
  if (s.path_query[0] == '?') s.path_query = "/" + s.path_query;
  return s;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
}  // namespace

bool IsValidCheckUrl(const std::string& url) {
  return url.size() <= 2048 && url.find_first_of(" \t\r\n") == std::string::npos && Split(url).has_value();
}

TxAnswer AskCheckUrl(const std::string& check_url, const std::string& topic, const HalfMessage& h,
                     std::chrono::nanoseconds connect_timeout, std::chrono::nanoseconds request_timeout,
                     std::string* detail) {
  std::optional<SplitUrl> url = Split(check_url);
  if (!url) {
    *detail = "invalid check_url";
    return TxAnswer::kUnknown;
  }
  std::string target = url->path_query;
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += "topic=" + httplib::detail::encode_query_param(topic);
  target += "&txid=" + httplib::detail::encode_query_param(h.txid);
  target += "&id=" + std::string(h.id.view());
  target += "&checks=" + std::to_string(h.checks);
  httplib::Client client(url->scheme_host_port);
  auto secs = [](std::chrono::nanoseconds d) { return static_cast<time_t>(d.count() / 1'000'000'000); };
  auto usecs = [](std::chrono::nanoseconds d) { return static_cast<time_t>((d.count() / 1000) % 1'000'000); };
  client.set_connection_timeout(secs(connect_timeout), usecs(connect_timeout));
  client.set_read_timeout(secs(request_timeout), usecs(request_timeout));
  httplib::Result res = client.Get(target);
  if (!res) {
    *detail = httplib::to_string(res.error());
    return TxAnswer::kUnknown;
  }
  if (res->status != 200) {
    *detail = "HTTP " + std::to_string(res->status);
    return TxAnswer::kUnknown;
  }
  std::string answer = res->body;
  answer.erase(0, answer.find_first_not_of(" \t\r\n"));
  answer.erase(answer.find_last_not_of(" \t\r\n") + 1);
  answer = Lower(answer);
  if (answer == "commit") return TxAnswer::kCommit;
  if (answer == "rollback") return TxAnswer::kRollback;
  *detail = answer == "unknown" ? "unknown" : "unexpected answer \"" + answer.substr(0, 40) + "\"";
  return TxAnswer::kUnknown;
}

}  // namespace q
