// qctl to-http: send each message of a topic to an HTTP endpoint (NSQ's nsq_to_http). A 2xx
// answer FINishes the message; a transport error or any other status REQueues it (and backs
// the consumer off, as go-nsq does).
#include <httplib.h>

#include <atomic>
#include <mutex>

#include "cli/commands.h"
#include "cli/consumer_flags.h"
#include "cli/http_call.h"
#include "common/duration.h"
#include "q/consumer.h"

namespace q::cli {

namespace {

struct ToHttpOptions {
  ConsumerFlags consumer;
  std::vector<std::string> post;  // URLs (round-robin)
  std::vector<std::string> get;   // URLs, "%s" replaced by the escaped body
  int n = 100;                    // concurrent requests
  std::string content_type = "application/octet-stream";
  std::vector<std::string> headers;  // "Name: value"
  std::string connect_timeout = "2s";
  std::string request_timeout = "20s";
  std::string requeue_delay = "90s";
  int64_t count = 0;
};

struct Url {
  std::string base;  // scheme://host:port
  std::string path;  // with query
};

bool SplitUrl(const std::string& url, Url* out) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  auto slash = url.find('/', scheme + 3);
  out->base = url.substr(0, slash);
  out->path = slash == std::string::npos ? "/" : url.substr(slash);
  return scheme > 0 && out->base.size() > scheme + 3;
}

int RunToHttp(ToHttpOptions o) {
  Consumer::Options co;
  std::string error;
  if (!ApplyConsumerFlags(o.consumer, &co, &error)) return Fail("to-http", error);
  if (o.post.empty() == o.get.empty()) return Fail("to-http", "give --post or --get (not both)");
  if (o.n < 1) return Fail("to-http", "--n must be >= 1");
  if (o.count < 0) return Fail("to-http", "-n must be >= 0");
  bool post = !o.post.empty();
  std::vector<Url> urls;
  for (const auto& u : post ? o.post : o.get) {
    Url url;
    if (!SplitUrl(u, &url)) return Fail("to-http", "invalid URL \"" + u + "\" (want http://host:port/path)");
    httplib::Client probe(url.base);
    if (!probe.is_valid()) return Fail("to-http", "unsupported URL \"" + u + "\"");
    urls.push_back(url);
  }
  httplib::Headers headers;
  for (const auto& h : o.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Fail("to-http", "--header wants \"Name: value\", got \"" + h + "\"");
    }
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    headers.emplace(h.substr(0, colon), value);
  }
  auto connect = ParseGoDuration(o.connect_timeout);
  auto request = ParseGoDuration(o.request_timeout);
  auto requeue = ParseGoDuration(o.requeue_delay);
  if (!connect || !request || !requeue) {
    return Fail("to-http", "invalid duration in --http-client-connect-timeout, "
                           "--http-client-request-timeout or --requeue-delay");
  }
  co.concurrency = o.n;
  co.requeue_delay = std::chrono::duration_cast<std::chrono::milliseconds>(*requeue);
  if (o.count > 0) co.max_in_flight = static_cast<int>(std::min<int64_t>(co.max_in_flight, o.count));
  auto to_us = [](std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  std::atomic<uint64_t> next{0};
  std::atomic<int64_t> sent{0};
  std::atomic<bool> done{false};
  BlockStopSignals();
  Consumer consumer(o.consumer.topic, o.consumer.channel, [&](Delivery& m) {
    if (done) {
      m.RequeueWithoutBackoff(std::chrono::milliseconds(0));
      return false;
    }
    const Url& url = urls[next++ % urls.size()];
    httplib::Client cli(url.base);
    cli.set_connection_timeout(0, to_us(*connect));
    cli.set_read_timeout(0, to_us(*request));
    cli.set_write_timeout(0, to_us(*request));
    std::string path = url.path;
    if (!post) {
      auto pos = path.find("%s");
      if (pos != std::string::npos) path.replace(pos, 2, QueryEscape(m.body()));
    }
    httplib::Result res = post ? cli.Post(path, headers, m.body(), o.content_type)
                               : cli.Get(path, headers);
    if (!res || res->status < 200 || res->status > 299) {
      std::fprintf(stderr, "qctl to-http: %s%s: %s\n", url.base.c_str(), url.path.c_str(),
                   res ? ("HTTP " + std::to_string(res->status)).c_str()
                       : (httplib::to_string(res.error()) + " error").c_str());
      return false;
    }
    if (++sent == o.count) done = true;
    return true;
  }, co);
  Status s = ConnectConsumer(consumer, o.consumer);
  if (!s.ok()) return Fail("to-http", s.message());
  WaitForSignalOr([&] { return done.load(); });
  consumer.Stop();
  return 0;
}

}  // namespace

void AddToHttpCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ToHttpOptions>();
  o->consumer.channel = "nsq_to_http";
  CLI::App* cmd = app.add_subcommand("to-http", "Send the messages of a topic to an HTTP endpoint");
  AddConsumerFlags(cmd, &o->consumer, /*channel_required=*/false);
  cmd->add_option("--post", o->post, "URL to POST each message body to (repeatable: round-robin)");
  cmd->add_option("--get", o->get,
                  "URL to GET for each message; %s is replaced by the escaped body (repeatable)");
  cmd->add_option("--n", o->n, "concurrent HTTP requests")->capture_default_str();
  cmd->add_option("--content-type", o->content_type, "Content-Type of POSTs")->capture_default_str();
  cmd->add_option("--header", o->headers, "extra request header \"Name: value\" (repeatable)");
  cmd->add_option("--http-client-connect-timeout", o->connect_timeout, "HTTP connect timeout")
      ->capture_default_str();
  cmd->add_option("--http-client-request-timeout", o->request_timeout, "HTTP request timeout")
      ->capture_default_str();
  cmd->add_option("--requeue-delay", o->requeue_delay,
                  "REQ delay after a failed request (× attempts)")
      ->capture_default_str();
  cmd->add_option("-c,--count", o->count, "exit after this many delivered messages (0: never)")
      ->capture_default_str();
  cmd->footer(
      "A 2xx answer finishes a message; anything else requeues it.\n"
      "Examples:\n"
      "  qctl to-http --topic events --post http://127.0.0.1:8080/ingest\n"
      "  qctl to-http --topic events --lookupd-http-address 10.0.0.2:4161 \\\n"
      "      --get 'http://10.0.0.9/hit?data=%s' --n 10");
  cmd->callback([o, exit_code] { *exit_code = RunToHttp(*o); });
}

}  // namespace q::cli
