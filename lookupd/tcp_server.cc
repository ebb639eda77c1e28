#include "lookupd/tcp_server.h"

#include <asio/experimental/as_tuple.hpp>
#include <chrono>
#include <future>

#include "common/byte_order.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/tcp_listen.h"
#include "common/wire.h"
#include "lookupd/protocol_v1.h"

namespace q::lookupd {

namespace {

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);
// Command lines are a verb and two names of at most 64 bytes; anything much longer is not
// a qd talking. (nsqlookupd reads unbounded lines.)
constexpr size_t kMaxLineLength = 16 * 1024;
constexpr size_t kReadChunk = 4096;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Frame(std::string_view data) {
  std::string out;
  AppendBE32(out, static_cast<uint32_t>(data.size()));
  out.append(data);
  return out;
}

}  // namespace

// One qd connection. Lives in its own coroutine; the server's set keeps it reachable so
// Close() can end it.
class TcpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(TcpServer& server, asio::ip::tcp::socket socket) : server_(server), socket_(std::move(socket)) {
    std::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) session_.remote_address = JoinHostPort(ep.address().to_string(), ep.port());
  }

  void Close() {
    std::error_code ec;
    socket_.close(ec);
  }

  asio::awaitable<void> Run() {
    auto self = shared_from_this();
    LOG_INFO("TCP: new client(", session_.remote_address, ")");
    if (co_await Fill(4)) {
      std::string magic = buf_.substr(0, 4);
      buf_.erase(0, 4);
      if (magic == wire::kMagicV1) {
        LOG_INFO("CLIENT(", session_.remote_address, "): desired protocol magic '", magic, "'");
        co_await CommandLoop();
      } else {
        LOG_ERROR("client(", session_.remote_address, ") bad protocol magic '", magic, "'");
        co_await Send("E_BAD_PROTOCOL");
      }
    }
    LOG_INFO("CLIENT(", session_.remote_address, "): closing");
    server_.protocol_->Closed(session_);
    Close();
    server_.connections_.erase(self);
    if (server_.closed_ && server_.connections_.empty() && server_.on_idle_) {
      auto on_idle = std::move(server_.on_idle_);
      server_.on_idle_ = nullptr;
      on_idle();
    }
  }

 private:
  asio::awaitable<void> CommandLoop() {
    while (true) {
      size_t nl = buf_.find('\n');
      if (nl == std::string::npos) {
        if (buf_.size() > kMaxLineLength) {
          LOG_ERROR("client(", session_.remote_address, ") sent a line longer than ", kMaxLineLength, " bytes");
          co_return;
        }
        if (!co_await Fill(buf_.size() + 1)) co_return;
        continue;
      }
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      // Leading and trailing whitespace go, then the line splits on every single space.
      size_t b = line.find_first_not_of(" \t\r\n\v\f");
      size_t e = line.find_last_not_of(" \t\r\n\v\f");
      line = b == std::string::npos ? "" : line.substr(b, e - b + 1);
      std::vector<std::string_view> params = wire::SplitParams(line);

      V1Result result;
      if (!params.empty() && params[0] == "IDENTIFY") {
        result = co_await Identify();
      } else {
        result = server_.protocol_->Exec(session_, params, NowNs());
      }
      if (result.error) {
        std::string error = result.error->Text();
        LOG_ERROR("[", session_.remote_address, "] - ", error);
        co_await Send(error);
        co_return;  // every V1 error is fatal
      }
      if (!co_await Send(result.response)) co_return;
    }
  }

  asio::awaitable<V1Result> Identify() {
    if (auto e = server_.protocol_->CheckIdentify(session_)) co_return V1Result{"", *e};
    if (!co_await Fill(4)) co_return V1Result{"", V1Error{"E_BAD_BODY", "IDENTIFY failed to read body size"}};
    auto size = static_cast<int32_t>(LoadBE32(buf_.data()));
    buf_.erase(0, 4);
    if (auto e = ProtocolV1::CheckIdentifySize(size)) co_return V1Result{"", *e};
    if (!co_await Fill(static_cast<size_t>(size)))
      co_return V1Result{"", V1Error{"E_BAD_BODY", "IDENTIFY failed to read body"}};
    std::string body = buf_.substr(0, static_cast<size_t>(size));
    buf_.erase(0, static_cast<size_t>(size));
    co_return server_.protocol_->Identify(session_, body, NowNs());
  }

  // Reads until at least n bytes are buffered. False on EOF or error.
  asio::awaitable<bool> Fill(size_t n) {
    while (buf_.size() < n) {
      size_t old = buf_.size();
      buf_.resize(old + kReadChunk);
      auto result = co_await socket_.async_read_some(asio::buffer(buf_.data() + old, kReadChunk), kAsTuple);
      std::error_code ec = std::get<0>(result);
      size_t got = std::get<1>(result);
      buf_.resize(old + got);
      if (ec) {
        if (ec != asio::error::eof && ec != asio::error::operation_aborted)
          LOG_DEBUG("client(", session_.remote_address, ") read error: ", ec.message());
        co_return false;
      }
    }
    co_return true;
  }

  asio::awaitable<bool> Send(std::string_view data) {
    std::string frame = Frame(data);
    auto result = co_await asio::async_write(socket_, asio::buffer(frame), kAsTuple);
    std::error_code ec = std::get<0>(result);
    if (ec) LOG_DEBUG("client(", session_.remote_address, ") write error: ", ec.message());
    co_return !ec;
  }

  TcpServer& server_;
  asio::ip::tcp::socket socket_;
  V1Session session_;
  std::string buf_;  // received, not yet consumed
};

TcpServer::TcpServer(asio::io_context& io) : io_(io), acceptor_(io) {}

TcpServer::~TcpServer() = default;

bool TcpServer::Listen(const std::string& address, std::string* error) {
  return ListenTcp(acceptor_, address, &port_, &local_address_, error);
}

void TcpServer::Start(ProtocolV1& protocol) {
  protocol_ = &protocol;
  asio::post(io_, [this] { Accept(); });
}

void TcpServer::Accept() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open() || closed_) return;
      LOG_ERROR("TCP: accept error: ", ec.message());
    } else if (!closed_) {
      auto connection = std::make_shared<Connection>(*this, std::move(socket));
      connections_.insert(connection);
      asio::co_spawn(io_, [connection] { return connection->Run(); }, asio::detached);
    }
    Accept();
  });
}

void TcpServer::Close() {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  asio::post(io_, [this, done] {
    closed_ = true;
    std::error_code ec;
    acceptor_.close(ec);
    // Each connection's coroutine ends on its own (unregistering the peer); the last one
    // to finish reports that the server is idle.
    on_idle_ = [done] { done->set_value(); };
    if (connections_.empty()) {
      on_idle_ = nullptr;
      done->set_value();
      return;
    }
    for (auto& c : connections_) c->Close();
  });
  if (io_.get_executor().running_in_this_thread()) return;
  future.wait_for(std::chrono::seconds(10));
}

}  // namespace q::lookupd
