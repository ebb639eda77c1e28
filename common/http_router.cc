#include "common/http_router.h"

#include <cctype>

#include "common/log.h"

namespace q::http {

namespace {
constexpr const char* kNsqHeader = "X-NSQ-Content-Type";
constexpr const char* kNsqHeaderValue = "nsq; version=1.0";
constexpr const char* kJsonType = "application/json; charset=utf-8";
constexpr const char* kTextType = "text/plain; charset=utf-8";

// Go's url.ParseQuery refuses a bad %-escape or a ';'; httplib would decode leniently.
bool QueryIsValid(const std::string& target) {
  size_t q = target.find('?');
  if (q == std::string::npos) return true;
  for (size_t i = q + 1; i < target.size(); ++i) {
    char c = target[i];
    if (c == ';') return false;
    if (c == '%') {
      if (i + 2 >= target.size() || !std::isxdigit(static_cast<unsigned char>(target[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(target[i + 2])))
        return false;
      i += 2;
    }
  }
  return true;
}
}  // namespace

void Error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_header(kNsqHeader, kNsqHeaderValue);
  res.set_content(nlohmann::json{{"message", message}}.dump(), kJsonType);
}
void JsonOk(httplib::Response& res, const nlohmann::json& body) {
  res.status = 200;
  res.set_header(kNsqHeader, kNsqHeaderValue);
  res.set_content(body.dump(), kJsonType);
}
void TextOk(httplib::Response& res, const std::string& text) {
  res.status = 200;
  res.set_header(kNsqHeader, kNsqHeaderValue);
  res.set_content(text, kTextType);
}
void EmptyOk(httplib::Response& res) { TextOk(res, ""); }

std::optional<std::string> Param(const httplib::Request& req, const char* key) {
  if (!req.has_param(key)) return std::nullopt;
  return req.get_param_value(key, 0);
}

bool BoolParam(const httplib::Request& req, const char* key, bool if_absent) {
  auto v = Param(req, key);
  if (!v) return if_absent;
  return !(*v == "false" || *v == "0");
}

void Router::Route(const std::string& path, std::set<std::string> methods, Handler handler) {
  routes_[path] = Entry{std::move(methods), std::move(handler)};
}

void Router::RoutePrefix(const std::string& prefix, Handler handler) { prefixes_[prefix] = std::move(handler); }

void Router::Dispatch(const httplib::Request& req, httplib::Response& res, const std::string& body) {
  if (!QueryIsValid(req.target)) return Error(res, 400, "INVALID_REQUEST");
  for (auto& [prefix, handler] : prefixes_)
    if (req.path.rfind(prefix, 0) == 0) return handler(req, body, res);
  auto it = routes_.find(req.path);
  if (it == routes_.end()) return Error(res, 404, "NOT_FOUND");
  if (!it->second.methods.contains(req.method)) return Error(res, 405, "METHOD_NOT_ALLOWED");
  it->second.handler(req, body, res);
}

void Router::Install(httplib::Server& server, size_t max_body,
                     std::function<std::string(const httplib::Request&)> too_big_code) {
  auto with_body = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    std::string body;
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      bool ok = reader([&](const char* data, size_t n) {
        body.append(data, n);
        return true;
      });
      if (!ok) {
        if (res.status == -1 || res.status == 200) res.status = 400;
        return;
      }
    }
    Dispatch(req, res, body);
  };
  auto no_body = [this](const httplib::Request& req, httplib::Response& res) { Dispatch(req, res, ""); };
  server.Get(".*", no_body);
  server.Post(".*", with_body);
  server.Put(".*", with_body);
  server.Patch(".*", with_body);
  server.Delete(".*", no_body);
  server.Options(".*", no_body);
  server.set_payload_max_length(max_body);
  server.set_error_handler([too_big_code](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) Error(res, 413, too_big_code(req));
    else if (res.status == 400) Error(res, 400, "INVALID_REQUEST");
    else if (res.status == 404) Error(res, 404, "NOT_FOUND");
  });
  server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    LOG_ERROR("HTTP: ", req.method, " ", req.path, " failed: ", what);
    Error(res, 500, "INTERNAL_ERROR");
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    LOG_DEBUG("HTTP: ", res.status, " ", req.method, " ", req.path, " (", req.remote_addr, ")");
  });
}

}  // namespace q::http
