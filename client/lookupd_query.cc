#include "client/lookupd_query.h"

#include <nlohmann/json.hpp>

#include "common/host_port.h"
#include "common/http_request.h"

namespace q {

bool ParseLookupProducers(std::string_view body, std::vector<std::string>* producers,
                          std::string* error) {
  producers->clear();
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("data") && j["data"].is_object()) j = j["data"];
  if (!j.is_object() || !j.contains("producers") || !j["producers"].is_array()) {
    *error = "not a /lookup answer";
    return false;
  }
  for (const auto& p : j["producers"]) {
    if (!p.is_object()) continue;
    auto host = p.find("broadcast_address");
    auto port = p.find("tcp_port");
    if (host == p.end() || !host->is_string() || port == p.end() || !port->is_number_integer()) {
      continue;
    }
    producers->push_back(JoinHostPort(host->get<std::string>(), port->get<int>()));
  }
  return true;
}

Status QueryLookupd(const std::string& http_address, const std::string& topic,
                    std::chrono::milliseconds timeout, std::vector<std::string>* producers) {
  producers->clear();
  HttpResult res = HttpRequest("GET", http_address, "/lookup?topic=" + QueryEscape(topic), timeout);
  if (res.bad_address) return Status::Error("invalid lookupd address \"" + http_address + "\"");
  if (!res.error.empty()) return Status::Error("lookupd " + http_address + ": " + res.error);
  if (res.status == 404) return Status::Ok();
  if (res.status != 200) {
    return Status::Error("lookupd " + http_address + ": HTTP " + std::to_string(res.status) +
                         " " + res.body);
  }
  std::string error;
  if (!ParseLookupProducers(res.body, producers, &error)) {
    return Status::Error("lookupd " + http_address + ": " + error);
  }
  return Status::Ok();
}

}  // namespace q
