// The HTTP conventions qd and qlookupd share with nsqd and nsqlookupd (spec:
// qd-http-api.md §1): parameters from the query string only, JSON errors
// {"message": CODE}, the X-NSQ-Content-Type header, 404 NOT_FOUND and 405
// METHOD_NOT_ALLOWED from the router, 400 INVALID_REQUEST for a query Go could not parse.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace q::http {

void Error(httplib::Response& res, int status, const std::string& message);
void JsonOk(httplib::Response& res, const nlohmann::json& body);
void TextOk(httplib::Response& res, const std::string& text);
void EmptyOk(httplib::Response& res);

// The first value of a query parameter; nullopt when absent.
std::optional<std::string> Param(const httplib::Request& req, const char* key);
// nsqd's booleans: "false" and "0" are false, any other value true.
bool BoolParam(const httplib::Request& req, const char* key, bool if_absent);

// Routes every request itself, so unknown paths and wrong methods get NSQ's JSON errors.
// Handlers receive the body read by the router: httplib alone refuses a POST without
// Content-Length (400), yet `curl -X POST .../topic/create?topic=t` sends none and nsqd
// takes it as empty. Keep the Router alive as long as the server it is installed on.
class Router {
 public:
  using Handler = std::function<void(const httplib::Request&, const std::string& body, httplib::Response&)>;

  void Route(const std::string& path, std::set<std::string> methods, Handler handler);
  // Every path starting with prefix (e.g. "/config/"); the handler checks the method.
  void RoutePrefix(const std::string& prefix, Handler handler);
  // too_big_code names the 413 message for a body over max_body (it depends on the path).
  void Install(httplib::Server& server, size_t max_body,
               std::function<std::string(const httplib::Request&)> too_big_code);

 private:
  struct Entry {
    std::set<std::string> methods;
    Handler handler;
  };
  void Dispatch(const httplib::Request& req, httplib::Response& res, const std::string& body);

  std::map<std::string, Entry> routes_;
  std::map<std::string, Handler> prefixes_;
};

}  // namespace q::http
