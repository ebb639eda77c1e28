#include "cli/http_call.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "common/host_port.h"

namespace q::cli {

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

Status HttpCall(const std::string& method, const std::string& address, const std::string& path,
                HttpAnswer* answer, bool want_2xx, std::chrono::milliseconds timeout) {
  std::string base = address;
  if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0) base = "http://" + base;
  httplib::Client cli(base);
  if (!cli.is_valid()) return Status::Error("invalid HTTP address \"" + address + "\"");
  auto secs = timeout.count() / 1000;
  auto usecs = (timeout.count() % 1000) * 1000;
  cli.set_connection_timeout(secs, usecs);
  cli.set_read_timeout(secs, usecs);
  cli.set_write_timeout(secs, usecs);
  httplib::Headers headers{{"Accept", "application/vnd.nsq; version=1.0"}};
  auto res = method == "POST" ? cli.Post(path, headers, "", "text/plain") : cli.Get(path, headers);
  if (!res) {
    return Status::Error(method + " " + address + path + ": " + HttpErrorText(res.error()));
  }
  answer->status = res->status;
  answer->body = res->body;
  if (want_2xx && (res->status < 200 || res->status > 299)) {
    std::string msg = res->body;
    // NSQ's errors are {"message":"TOPIC_NOT_FOUND"}; show the code alone.
    auto j = nlohmann::json::parse(msg, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      msg = j["message"].get<std::string>();
    } else if (j.is_object() && j.contains("status_txt") && j["status_txt"].is_string()) {
      msg = j["status_txt"].get<std::string>();
    }
    msg.erase(std::remove(msg.begin(), msg.end(), '\n'), msg.end());
    return Status::Error(method + " " + address + path + ": HTTP " + std::to_string(res->status) +
                         (msg.empty() ? "" : " " + msg));
  }
  return Status::Ok();
}

Status ParseJson(const std::string& address, const std::string& body, nlohmann::json* out) {
  *out = nlohmann::json::parse(body, nullptr, false);
  if (out->is_discarded()) return Status::Error(address + ": answer is not JSON");
  if (out->is_object() && out->contains("status_code") && out->contains("data")) {
    nlohmann::json data = (*out)["data"];
    *out = std::move(data);
  }
  return Status::Ok();
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

Status QdHttpAddresses(const std::vector<std::string>& qd_http,
                       const std::vector<std::string>& lookupd_http, const std::string& topic,
                       std::vector<std::string>* out) {
  out->clear();
  auto add = [&](const std::string& a) {
    if (std::find(out->begin(), out->end(), a) == out->end()) out->push_back(a);
  };
  for (const auto& a : qd_http) add(a);
  for (const auto& lookupd : lookupd_http) {
    std::string path = topic.empty() ? "/nodes" : "/lookup?topic=" + QueryEscape(topic);
    HttpAnswer answer;
    Status s = HttpCall("GET", lookupd, path, &answer, /*want_2xx=*/false);
    if (!s.ok()) return s;
    if (answer.status == 404) continue;  // lookupd does not know the topic
    if (answer.status != 200) {
      return Status::Error("GET " + lookupd + path + ": HTTP " + std::to_string(answer.status));
    }
    nlohmann::json j;
    s = ParseJson(lookupd, answer.body, &j);
    if (!s.ok()) return s;
    if (!j.is_object() || !j.contains("producers") || !j["producers"].is_array()) {
      return Status::Error("GET " + lookupd + path + ": no producers in the answer");
    }
    for (const auto& p : j["producers"]) {
      if (!p.is_object() || !p.contains("broadcast_address") || !p.contains("http_port") ||
          !p["broadcast_address"].is_string() || !p["http_port"].is_number_integer()) {
        continue;
      }
      add(JoinHostPort(p["broadcast_address"].get<std::string>(), p["http_port"].get<int>()));
    }
  }
  return Status::Ok();
}

}  // namespace q::cli
