#include "qd/lookup_peer.h"

#include <asio/experimental/as_tuple.hpp>
#include <nlohmann/json.hpp>

#include "common/byte_order.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/wire.h"

namespace q {

namespace {

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::nanoseconds kMinBackoff = std::chrono::milliseconds(200);

// "REGISTER t c\n" -> "REGISTER t c", for logs.
std::string_view Chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return line;
}

}  // namespace

struct LookupPeer::Connection : std::enable_shared_from_this<Connection> {
  explicit Connection(asio::io_context& io) : socket(io), resolver(io), wake(io), deadline(io) {}
  asio::ip::tcp::socket socket;
  asio::ip::tcp::resolver resolver;
  // Serve() sleeps on wake until the next PING; a reply, Command() or Break() cancel it.
  asio::steady_timer wake;
  // The dial and each exchange; a wait whose generation is stale does nothing.
  asio::steady_timer deadline;
  uint64_t deadline_gen = 0;
  std::deque<std::string> replies;  // read by ReadReplies, not yet consumed
  bool broken = false;
};

LookupPeer::LookupPeer(asio::io_context& io, std::string address, Settings settings)
    : io_(io), address_(std::move(address)), settings_(std::move(settings)), backoff_timer_(io) {}

LookupPeer::~LookupPeer() = default;

std::optional<std::string> LookupPeer::http_address() const {
  std::lock_guard lock(http_mu_);
  return http_address_;
}

void LookupPeer::Start() {
  asio::co_spawn(io_, [self = shared_from_this()] { return self->Run(); }, asio::detached);
}

void LookupPeer::Command(std::string line) {
  if (closed_ || !conn_ || !identified_) return;
  queue_.push_back(std::move(line));
  conn_->wake.cancel();
}

void LookupPeer::Close() {
  if (closed_) return;
  closed_ = true;
  backoff_timer_.cancel();
  if (conn_) Break(*conn_, "closed");
}

void LookupPeer::Break(Connection& conn, const std::string& why) {
  if (conn.broken) return;
  conn.broken = true;
  if (!closed_) LOG_ERROR("LOOKUPD(", address_, "): ", why);
  std::error_code ec;
  conn.resolver.cancel();
  conn.socket.close(ec);
  conn.wake.cancel();
  conn.deadline.cancel();
}

asio::awaitable<void> LookupPeer::Run() {
  auto self = shared_from_this();
  auto max_backoff = std::max<std::chrono::nanoseconds>(kMinBackoff, settings_.ping_interval);
  auto backoff = kMinBackoff;
  LOG_INFO("LOOKUP(", address_, "): adding peer");
  while (!closed_) {
    std::shared_ptr<Connection> conn = co_await Connect();
    if (conn) {
      backoff = kMinBackoff;
      co_await Serve(*conn);
    }
    conn_.reset();
    identified_ = false;
    queue_.clear();
    if (closed_) break;
    backoff_timer_.expires_after(backoff);
    auto waited = co_await backoff_timer_.async_wait(kAsTuple);
    (void)waited;
    backoff = std::min(backoff * 2, max_backoff);
  }
}

asio::awaitable<std::shared_ptr<LookupPeer::Connection>> LookupPeer::Connect() {
  std::string host;
  int port = 0;
  if (!ParseHostPort(address_, &host, &port)) {
    LOG_ERROR("LOOKUPD(", address_, "): invalid address (want host:port)");
    co_return nullptr;
  }
  auto conn = std::make_shared<Connection>(io_);
  conn_ = conn;

  // Dial with a deadline: resolving and connecting together get the io timeout.
  uint64_t gen = ++conn->deadline_gen;
  conn->deadline.expires_after(settings_.io_timeout);
  conn->deadline.async_wait([self = shared_from_this(), conn, gen](std::error_code ec) {
    if (!ec && conn->deadline_gen == gen) self->Break(*conn, "dial timeout");
  });
  std::string service = std::to_string(port);
  auto resolved = co_await conn->resolver.async_resolve(host, service, kAsTuple);
  if (std::get<0>(resolved) || conn->broken) {
    if (!conn->broken) Break(*conn, "cannot resolve " + host + ": " + std::get<0>(resolved).message());
    co_return nullptr;
  }
  asio::ip::tcp::resolver::results_type endpoints = std::get<1>(resolved);
  auto connected = co_await asio::async_connect(conn->socket, endpoints, kAsTuple);
  ++conn->deadline_gen;
  conn->deadline.cancel();
  if (std::get<0>(connected) || conn->broken) {
    if (!conn->broken) Break(*conn, "connect failed: " + std::get<0>(connected).message());
    co_return nullptr;
  }
  std::error_code ec;
  conn->socket.set_option(asio::ip::tcp::no_delay(true), ec);
  LOG_INFO("LOOKUPD(", address_, "): connected");
  asio::co_spawn(io_, ReadReplies(shared_from_this(), conn), asio::detached);

  std::string hello(wire::kMagicV1);
  hello += "IDENTIFY\n";
  AppendBE32(hello, static_cast<uint32_t>(settings_.identify_body.size()));
  hello += settings_.identify_body;
  std::string reply;
  bool exchanged = co_await Exchange(*conn, hello, &reply);
  if (!exchanged) co_return nullptr;
  if (!HandleIdentifyReply(reply)) {
    Break(*conn, "IDENTIFY refused");
    co_return nullptr;
  }

  // Everything qd has, then whatever Command() adds from now on.
  identified_ = true;
  queue_.clear();
  if (settings_.snapshot) {
    for (std::string& line : settings_.snapshot()) queue_.push_back(std::move(line));
  }
  co_return conn;
}

bool LookupPeer::HandleIdentifyReply(const std::string& reply) {
  if (reply == "E_INVALID") {
    LOG_INFO("LOOKUPD(", address_, "): lookupd returned ", reply);
    return false;
  }
  auto info = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (info.is_discarded() || !info.is_object()) {
    LOG_ERROR("LOOKUPD(", address_, "): parsing response - ", reply);
    return false;
  }
  LOG_INFO("LOOKUPD(", address_, "): peer info ", reply);
  std::string broadcast;
  int http_port = 0;
  if (auto it = info.find("broadcast_address"); it != info.end() && it->is_string()) broadcast = it->get<std::string>();
  if (auto it = info.find("http_port"); it != info.end() && it->is_number_integer()) http_port = it->get<int>();
  if (broadcast.empty()) {
    LOG_ERROR("LOOKUPD(", address_, "): no broadcast address");
    return true;  // registered all the same; only channel pre-creation cannot use it
  }
  std::lock_guard lock(http_mu_);
  http_address_ = JoinHostPort(broadcast, http_port);
  return true;
}

asio::awaitable<void> LookupPeer::Serve(Connection& conn) {
  auto next_ping = std::chrono::steady_clock::now() + settings_.ping_interval;
  while (!closed_ && !conn.broken) {
    // lookupd speaks only when spoken to; anything else means the stream is out of step.
    if (!conn.replies.empty()) {
      Break(conn, "unexpected data from lookupd");
      break;
    }
    if (!queue_.empty()) {
      std::string line = std::move(queue_.front());
      queue_.pop_front();
      if (line.rfind("PING", 0) == 0) {
        LOG_DEBUG("LOOKUPD(", address_, "): sending heartbeat");
      } else {
        LOG_INFO("LOOKUPD(", address_, "): ", Chomp(line));
      }
      std::string reply;
      bool exchanged = co_await Exchange(conn, line, &reply);
      if (!exchanged) {
        if (!closed_) LOG_ERROR("LOOKUPD(", address_, "): ", Chomp(line), " - no reply");
        break;
      }
      continue;
    }
    if (std::chrono::steady_clock::now() >= next_ping) {
      queue_.push_back("PING\n");
      next_ping = std::chrono::steady_clock::now() + settings_.ping_interval;
      continue;
    }
    conn.wake.expires_at(next_ping);
    auto waited = co_await conn.wake.async_wait(kAsTuple);
    (void)waited;
  }
}

asio::awaitable<bool> LookupPeer::Exchange(Connection& conn, std::string_view bytes, std::string* reply) {
  std::shared_ptr<Connection> keep = conn.shared_from_this();
  uint64_t gen = ++conn.deadline_gen;
  conn.deadline.expires_after(settings_.io_timeout);
  conn.deadline.async_wait([self = shared_from_this(), keep, gen](std::error_code ec) {
    if (!ec && keep->deadline_gen == gen) self->Break(*keep, "timeout waiting for lookupd");
  });
  auto written = co_await asio::async_write(conn.socket, asio::buffer(bytes.data(), bytes.size()), kAsTuple);
  if (std::get<0>(written)) Break(conn, "write failed: " + std::get<0>(written).message());
  while (conn.replies.empty() && !conn.broken) {
    conn.wake.expires_at(std::chrono::steady_clock::time_point::max());
    auto waited = co_await conn.wake.async_wait(kAsTuple);
    (void)waited;
  }
  ++conn.deadline_gen;
  conn.deadline.cancel();
  if (conn.broken) co_return false;
  *reply = std::move(conn.replies.front());
  conn.replies.pop_front();
  co_return true;
}

asio::awaitable<void> LookupPeer::ReadReplies(std::shared_ptr<LookupPeer> self, std::shared_ptr<Connection> conn) {
  // Replies are [4-byte size][data]; no frame type in V1.
  char header[4];
  while (!conn->broken) {
    auto got = co_await asio::async_read(conn->socket, asio::buffer(header, sizeof header), kAsTuple);
    std::error_code ec = std::get<0>(got);
    if (ec) {
      self->Break(*conn, ec == asio::error::eof ? "connection closed by lookupd" : "read failed: " + ec.message());
      co_return;
    }
    uint32_t size = LoadBE32(header);
    if (size > self->settings_.max_reply_size) {
      self->Break(*conn, "reply of " + std::to_string(size) + " bytes is too large");
      co_return;
    }
    std::string body(size, '\0');
    auto got_body = co_await asio::async_read(conn->socket, asio::buffer(body.data(), body.size()), kAsTuple);
    if (std::get<0>(got_body)) {
      self->Break(*conn, "read failed: " + std::get<0>(got_body).message());
      co_return;
    }
    conn->replies.push_back(std::move(body));
    conn->wake.cancel();
  }
}

}  // namespace q
