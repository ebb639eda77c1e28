#include "client/lookupd_query.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/host_port.h"

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
  std::string base = http_address;
  if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0) base = "http://" + base;
  httplib::Client cli(base);
  if (!cli.is_valid()) return Status::Error("invalid lookupd address \"" + http_address + "\"");
  auto secs = timeout.count() / 1000;
  auto usecs = (timeout.count() % 1000) * 1000;
  cli.set_connection_timeout(secs, usecs);
  cli.set_read_timeout(secs, usecs);
  cli.set_write_timeout(secs, usecs);
  httplib::Params params{{"topic", topic}};
  auto res = cli.Get("/lookup", params, httplib::Headers{{"Accept", "application/vnd.nsq; version=1.0"}});
  if (!res) {
    return Status::Error("lookupd " + http_address + ": " + HttpErrorText(res.error()));
  }
  if (res->status == 404) return Status::Ok();
  if (res->status != 200) {
    return Status::Error("lookupd " + http_address + ": HTTP " + std::to_string(res->status) +
                         " " + res->body);
  }
  std::string error;
  if (!ParseLookupProducers(res->body, producers, &error)) {
    return Status::Error("lookupd " + http_address + ": " + error);
  }
  return Status::Ok();
}

}  // namespace q
