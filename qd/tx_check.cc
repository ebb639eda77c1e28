#include "qd/tx_check.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "common/byte_order.h"
#include "common/http_request.h"

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
// A check_url qd can call: http or https, and a host without spaces or credentials.
std::optional<UrlParts> Split(const std::string& url) {
  std::optional<UrlParts> parts = SplitUrl(url);
  if (!parts) return std::nullopt;
  std::string scheme = url.substr(0, url.find("://"));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string host = parts->scheme_host_port.substr(scheme.size() + 3);
  if (host.empty() || host.find_first_of(" \t\r\n@") != std::string::npos) return std::nullopt;
  return parts;
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
  std::optional<UrlParts> url = Split(check_url);
  if (!url) {
    *detail = "invalid check_url";
    return TxAnswer::kUnknown;
  }
  std::string target = url->target;
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += "topic=" + httplib::detail::encode_query_param(topic);
  target += "&txid=" + httplib::detail::encode_query_param(h.txid);
  target += "&id=" + std::string(h.id.view());
  target += "&checks=" + std::to_string(h.checks);
  httplib::Client client(url->scheme_host_port);
  client.set_connection_timeout(connect_timeout);
  client.set_read_timeout(request_timeout);
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
