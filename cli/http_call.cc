#include "cli/http_call.h"

#include <algorithm>

#include "common/host_port.h"

namespace q::cli {

Status HttpCall(const std::string& method, const std::string& address, const std::string& path,
                HttpAnswer* answer, bool want_2xx, std::chrono::milliseconds timeout) {
  HttpResult res = HttpRequest(method, address, path, timeout);
  if (res.bad_address) return Status::Error("invalid HTTP address \"" + address + "\"");
  if (!res.error.empty()) return Status::Error(method + " " + address + path + ": " + res.error);
  answer->status = res.status;
  answer->body = std::move(res.body);
  if (want_2xx && (answer->status < 200 || answer->status > 299)) {
    std::string msg = answer->body;
    // NSQ's errors are {"message":"TOPIC_NOT_FOUND"}; show the code alone.
    auto j = nlohmann::json::parse(msg, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      msg = j["message"].get<std::string>();
    } else if (j.is_object() && j.contains("status_txt") && j["status_txt"].is_string()) {
      msg = j["status_txt"].get<std::string>();
    }
    msg.erase(std::remove(msg.begin(), msg.end(), '\n'), msg.end());
    return Status::Error(method + " " + address + path + ": HTTP " + std::to_string(answer->status) +
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
