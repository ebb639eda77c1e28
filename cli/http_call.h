// Plain HTTP calls to qd and qlookupd for the qctl subcommands, and finding the qd HTTP
// addresses that serve a topic (nsq tools' --nsqd-http-address / --lookupd-http-address).
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http_request.h"  // QueryEscape
#include "q/status.h"

namespace q::cli {

inline constexpr const char* kDefaultQdHttpAddress = "127.0.0.1:4151";

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// method "GET" or "POST"; path with its query string. Fails (with one readable line naming the
// address) on a transport error or, when want_2xx, on a non-2xx status ("HTTP 404
// TOPIC_NOT_FOUND").
Status HttpCall(const std::string& method, const std::string& address, const std::string& path,
                HttpAnswer* answer, bool want_2xx = true,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// Parses a JSON answer, unwrapping the pre-1.0 {"status_code","data"} envelope.
Status ParseJson(const std::string& address, const std::string& body, nlohmann::json* out);

// The qd HTTP addresses to talk to: qd_http as given, plus, for each lookupd, the
// broadcast_address:http_port of the producers of `topic` (/lookup) — or of every node
// (/nodes) when topic is empty. Duplicates removed, order kept.
Status QdHttpAddresses(const std::vector<std::string>& qd_http,
                       const std::vector<std::string>& lookupd_http, const std::string& topic,
                       std::vector<std::string>* out);

}  // namespace q::cli
