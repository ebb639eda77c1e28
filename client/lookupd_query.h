// Asks one qlookupd (nsqlookupd) which qd produce a topic: GET /lookup?topic=<topic>.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "q/status.h"

namespace q {

// Fills *producers with the "broadcast_address:tcp_port" of every producer in a /lookup
// answer (also accepts the pre-1.0 {"status_code":..,"data":{..}} envelope). Pure; false and
// *error set when body is not a /lookup answer.
bool ParseLookupProducers(std::string_view body, std::vector<std::string>* producers,
                          std::string* error);

// http_address: "host:port" or "http://host:port". A 404 (topic not known yet) is ok with no
// producers; other failures are an error Status with one readable line.
Status QueryLookupd(const std::string& http_address, const std::string& topic,
                    std::chrono::milliseconds timeout, std::vector<std::string>* producers);

}  // namespace q
