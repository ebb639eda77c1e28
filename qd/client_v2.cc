#include "qd/client_v2.h"

#include <asio/experimental/as_tuple.hpp>
#include <chrono>
#include <cstring>

#include "common/log.h"
#include "common/wire.h"
#include "qd/channel.h"
#include "qd/protocol_v2.h"
#include "qd/qd.h"
#include "qd/shard.h"
#include "qd/topic.h"

namespace q {

namespace {

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);
// nsqd reads lines through a 16 KiB buffer; a longer line ends the connection.
constexpr size_t kMaxLineLength = 16 * 1024;
constexpr size_t kReadChunk = 64 * 1024;
// An idle consumer only ever reads short commands: its read buffer starts at this and
// doubles up to kReadChunk when a read fills it (a publisher), so 10,000 idle connections do
// not pin 64 KiB each.
constexpr size_t kInitialReadBuffer = 4 * 1024;

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ClientV2::ClientV2(Qd& qd, Shard& shard, asio::ip::tcp::socket socket)
    : qd_(qd),
      shard_(&shard),
      id_(qd.NextClientId()),
      socket_(std::make_unique<asio::ip::tcp::socket>(std::move(socket))) {
  const Options& o = qd.options();
  heartbeat_interval_ms_ = o.client_timeout.count() / 2000000;
  output_buffer_size_ = 16 * 1024;
  output_buffer_timeout_ms_ = o.output_buffer_timeout.count() / 1000000;
  msg_timeout_ms_ = o.msg_timeout.count() / 1000000;
  std::error_code ec;
  auto ep = socket_->remote_endpoint(ec);
  if (!ec) {
    v6_ = ep.address().is_v6();
    remote_address_ = (v6_ ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) + ":" +
                      std::to_string(ep.port());
  }
  socket_->set_option(asio::ip::tcp::no_delay(true), ec);
  connect_ts_ = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  read_buf_.resize(kInitialReadBuffer);
}

ClientV2::~ClientV2() = default;

void ClientV2::Start() {
  heartbeat_timer_ = std::make_unique<asio::steady_timer>(shard_->io());
  flush_timer_ = std::make_unique<asio::steady_timer>(shard_->io());
  shard_->clients[id_] = this;
  asio::co_spawn(shard_->io(), [self = shared_from_this()]() { return self->Run(); }, asio::detached);
}

asio::awaitable<void> ClientV2::Run() {
  auto self = shared_from_this();
  LOG_INFO("TCP: new client(", remote_address_, ")");
  last_command_ns_ = SteadyNs();
  ArmHeartbeat();
  if (co_await Fill(4)) {
    std::string_view magic(read_buf_.data() + read_pos_, 4);
    read_pos_ += 4;
    if (magic == wire::kMagicV2) {
      LOG_DEBUG("CLIENT(", remote_address_, "): desired protocol magic '  V2'");
      co_await CommandLoop();
      co_return;
    }
    LOG_ERROR("client(", remote_address_, ") bad protocol magic '", std::string(magic), "'");
    // nsqd answers a bad magic with a bare error frame, no description.
    std::string frame;
    wire::AppendFrame(frame, wire::FrameType::kError, "E_BAD_PROTOCOL");
    out_ += frame;
    close_after_flush_ = true;
    Flush();
  }
  Teardown();
}

asio::awaitable<void> ClientV2::ResumeAfterMove() {
  auto self = shared_from_this();
  // A publisher's command is still in the read buffer and simply runs again here.
  if (!pending_channel_.empty()) {
    auto outcome = ProtocolV2::FinishSub(*this);
    if (outcome.error) {
      SendError(*outcome.error);
      Teardown();
      co_return;
    }
  }
  co_await CommandLoop();
}

asio::awaitable<void> ClientV2::CommandLoop() {
  std::vector<std::string_view> params;
  while (!closed_) {
    // Find a whole line in what is buffered; read more when there is none.
    std::string_view unread(read_buf_.data() + read_pos_, read_end_ - read_pos_);
    size_t nl = unread.find('\n');
    if (nl == std::string_view::npos) {
      if (unread.size() >= kMaxLineLength) {
        LOG_ERROR("PROTOCOL(V2): [", remote_address_, "] line too long, closing");
        break;
      }
      if (!co_await Fill(unread.size() + 1)) break;
      continue;
    }
    if (nl >= kMaxLineLength) {
      LOG_ERROR("PROTOCOL(V2): [", remote_address_, "] line too long, closing");
      break;
    }
    std::string_view line = unread.substr(0, nl);
    command_pos_ = read_pos_;
    read_pos_ += nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    last_command_ns_ = SteadyNs();
    params = wire::SplitParams(line);
    LOG_DEBUG("PROTOCOL(V2): [", remote_address_, "] ", line);

    ProtocolV2::Outcome outcome;
    if (!tls_ && params[0] != "IDENTIFY" && qd_.tls_required_for_tcp()) {
      SendError({"E_INVALID", "cannot " + std::string(params[0]) + " in current state (TLS required)", true});
      break;
    }
    if (ProtocolV2::IsAsync(params[0])) {
      outcome = co_await ProtocolV2::ExecAsync(*this, std::move(params));
    } else {
      outcome = ProtocolV2::ExecSync(*this, params);
    }
    if (outcome.moved_to) {
      Shard* target = outcome.moved_to;
      int fd = moving_fd_;
      moving_fd_ = -1;
      // Hand over only after every handler already queued here for this connection (a
      // timer that fired just before it was cancelled) has run and found it detached.
      asio::post(shard_->io(), [self = shared_from_this(), target, fd] {
        asio::post(target->io(), [self, target, fd] {
          self->AttachToShard(*target, fd);
          asio::co_spawn(target->io(), [self]() { return self->ResumeAfterMove(); }, asio::detached);
        });
      });
      co_return;
    }
    if (outcome.error) {
      SendError(*outcome.error);
      if (outcome.error->fatal) break;
    }
  }
  Teardown();
}

asio::awaitable<bool> ClientV2::Fill(size_t n) {
  while (read_end_ - read_pos_ < n) {
    if (closed_) co_return false;
    // Make room: slide unread bytes to the front, grow only for a body already checked
    // against the size limits.
    if (read_pos_ > 0 && (read_buf_.size() - read_end_ < kReadChunk / 4 || read_buf_.size() - read_pos_ < n)) {
      std::memmove(read_buf_.data(), read_buf_.data() + read_pos_, read_end_ - read_pos_);
      read_end_ -= read_pos_;
      read_pos_ = 0;
    }
    if (read_buf_.size() < n) read_buf_.resize(n);
    if (read_buf_.size() - read_end_ < 512) read_buf_.resize(read_buf_.size() + kReadChunk);
    bool layered = codec_ || tls_;
    char* into = layered ? raw_buf_.data() : read_buf_.data() + read_end_;
    size_t room = layered ? raw_buf_.size() : read_buf_.size() - read_end_;
    auto [ec, got] = co_await socket_->async_read_some(asio::buffer(into, room), kAsTuple);
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted)
        LOG_DEBUG("PROTOCOL(V2): [", remote_address_, "] read error: ", ec.message());
      co_return false;
    }
    if (!layered) {
      read_end_ += got;
      if (got == room && read_buf_.size() < kReadChunk) {
        read_buf_.resize(std::min(read_buf_.size() * 2, kReadChunk));
      }
      continue;
    }
    if (!DecodeInput(std::string_view(raw_buf_.data(), got))) co_return false;
  }
  // Shrink a buffer grown for a big body once it is consumed.
  co_return true;
}

bool ClientV2::DecodeInput(std::string_view received) {
  std::string_view chunk = received;
  if (tls_) {
    tls_plain_.clear();
    if (!tls_->Decrypt(chunk, &tls_plain_)) {
      LOG_DEBUG("PROTOCOL(V2): [", remote_address_, "] TLS ", tls_->error());
      return false;
    }
    // The session may have answered on its own (a key update).
    if (tls_->HasOutput()) Flush();
    chunk = tls_plain_;
  }
  if (codec_) {
    decoded_.clear();
    if (!codec_->Decompress(chunk, &decoded_)) {
      LOG_ERROR("PROTOCOL(V2): [", remote_address_, "] corrupt ", codec_->name(), " stream, closing");
      return false;
    }
    chunk = decoded_;
  }
  if (read_buf_.size() - read_end_ < chunk.size()) read_buf_.resize(read_end_ + chunk.size());
  std::memcpy(read_buf_.data() + read_end_, chunk.data(), chunk.size());
  read_end_ += chunk.size();
  return true;
}

void ClientV2::Teardown() {
  if (channel_) {
    channel_->RemoveClient(this);
    channel_ = nullptr;
  }
  topic_.reset();
  if (!tx_group_.empty()) qd_.tx_producers().Remove(tx_group_, id_);
  shard_->clients.erase(id_);
  LOG_INFO("PROTOCOL(V2): [", remote_address_, "] exiting ioloop");
  if (out_.empty() && !writing_) {
    Close();
  } else {
    close_after_flush_ = true;
    Flush();
  }
}

void ClientV2::Close() {
  if (closed_) return;
  closed_ = true;
  std::error_code ec;
  if (heartbeat_timer_) heartbeat_timer_->cancel();
  if (flush_timer_) flush_timer_->cancel();
  if (socket_) {
    socket_->shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_->close(ec);
  }
}

void ClientV2::DetachFromChannel() {
  channel_ = nullptr;
  state_ = State::kClosing;
  Close();
}

// --- output -----------------------------------------------------------------------------

void ClientV2::SendResponse(std::string_view data) {
  if (closed_) return;
  wire::AppendFrame(out_, wire::FrameType::kResponse, data);
  Flush();
}

void ClientV2::SendTxCheck(std::string_view payload) {
  if (closed_) return;
  wire::AppendFrame(out_, wire::FrameType::kTxCheck, payload);
  Flush();
}

void ClientV2::SendError(const ClientError& e) {
  if (closed_) return;
  LOG_DEBUG("PROTOCOL(V2): [", remote_address_, "] ", e.code, " ", e.desc);
  wire::AppendFrame(out_, wire::FrameType::kError, e.code + " " + e.desc);
  if (e.fatal) close_after_flush_ = true;
  Flush();
}

void ClientV2::SendMessage(const Message& m) {
  ++in_flight_count_;
  ++message_count_;
  wire::AppendMessageFrame(out_, m);
  if (static_cast<int64_t>(out_.size()) >= output_buffer_size_ || output_buffer_timeout_ms_ == 0 ||
      !IsReadyForMessages()) {
    Flush();
  } else {
    ArmFlushTimer();
  }
}

void ClientV2::ArmFlushTimer() {
  if (flush_armed_ || !flush_timer_) return;
  flush_armed_ = true;
  flush_timer_->expires_after(std::chrono::milliseconds(output_buffer_timeout_ms_));
  flush_timer_->async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || !self->socket_) return;  // cancelled, or detached for a move
    self->flush_armed_ = false;
    self->Flush();
  });
}

void ClientV2::Flush() {
  if (writing_ || closed_ || !socket_) return;
  if (out_.empty() && !(tls_ && tls_->HasOutput())) {
    if (close_after_flush_) Close();
    return;
  }
  writing_ = true;
  if (codec_ || tls_) {
    if (!EncodeOutput()) {
      writing_ = false;
      Close();
      return;
    }
  } else {
    wbuf_.swap(out_);
  }
  out_.clear();
  write_started_ns_ = SteadyNs();
  asio::async_write(*socket_, asio::buffer(wbuf_), [self = shared_from_this()](std::error_code ec, size_t written) {
    self->writing_ = false;
    self->wbuf_.clear();
    // Give a big buffer back only once a write used little of it (the burst is over): a
    // consumer draining a backlog writes megabytes at a time, and shrinking after each write
    // made the next one regrow it from scratch (realloc copies and fresh pages: 1 KB
    // messages drained at a fifth of the speed).
    if (self->wbuf_.capacity() > 1 << 20 && written < self->wbuf_.capacity() / 4) {
      self->wbuf_.shrink_to_fit();
    }
    if (self->idle_waiter_) self->idle_waiter_->cancel();
    if (ec) {
      self->Close();
      return;
    }
    self->Flush();
  });
}

bool ClientV2::EncodeOutput() {
  std::string* plain = &out_;
  if (codec_) {
    coded_.assign(out_, 0, plain_prefix_);
    if (!codec_->Compress(std::string_view(out_).substr(plain_prefix_), &coded_)) {
      LOG_ERROR("PROTOCOL(V2): [", remote_address_, "] ", codec_->name(), " compression failed, closing");
      return false;
    }
    plain_prefix_ = 0;
    plain = &coded_;
  }
  if (!tls_) {
    wbuf_.swap(*plain);
    return true;
  }
  wbuf_.clear();
  if (!tls_->Encrypt(*plain, &wbuf_)) {
    LOG_ERROR("PROTOCOL(V2): [", remote_address_, "] TLS ", tls_->error(), ", closing");
    return false;
  }
  if (plain == &coded_) coded_.clear();
  return true;
}

// --- heartbeats and deadlines -----------------------------------------------------------

void ClientV2::ArmHeartbeat() {
  if (!heartbeat_timer_ || closed_) return;
  heartbeat_timer_->cancel();
  if (heartbeat_interval_ms_ <= 0) return;
  heartbeat_timer_->expires_after(std::chrono::milliseconds(heartbeat_interval_ms_));
  heartbeat_timer_->async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec) return;
    self->OnHeartbeatTick();
  });
}

void ClientV2::OnHeartbeatTick() {
  if (closed_ || !socket_) return;
  int64_t now = SteadyNs();
  int64_t interval_ns = heartbeat_interval_ms_ * 1000000;
  // No whole command for two heartbeats: the client is gone (nsqd's read deadline).
  if (now - last_command_ns_ > 2 * interval_ns) {
    LOG_INFO("PROTOCOL(V2): [", remote_address_, "] no command for ", 2 * heartbeat_interval_ms_,
             "ms, closing");
    Close();
    return;
  }
  // A write stuck for a whole heartbeat: a reader too slow to keep (nsqd's write deadline).
  if (writing_ && now - write_started_ns_ > interval_ns) {
    LOG_INFO("PROTOCOL(V2): [", remote_address_, "] write stalled for ", heartbeat_interval_ms_,
             "ms, closing");
    Close();
    return;
  }
  SendResponse(wire::kHeartbeat);
  ArmHeartbeat();
}

bool ClientV2::EnableCompression(std::unique_ptr<StreamCodec> codec) {
  plain_prefix_ = out_.size();
  codec_ = std::move(codec);
  raw_buf_.resize(kReadChunk);
  // Whatever the client sent after IDENTIFY is already in the new format.
  std::string_view unread(read_buf_.data() + read_pos_, read_end_ - read_pos_);
  if (unread.empty()) return true;
  std::string decoded;
  if (!codec_->Decompress(unread, &decoded)) return false;
  read_pos_ = read_end_ = 0;
  if (read_buf_.size() < decoded.size()) read_buf_.resize(decoded.size());
  std::memcpy(read_buf_.data(), decoded.data(), decoded.size());
  read_end_ = decoded.size();
  return true;
}

asio::awaitable<std::optional<std::string>> ClientV2::UpgradeTls() {
  auto self = shared_from_this();
  co_await WaitWritesIdle();  // the IDENTIFY response goes out before the handshake
  if (closed_) co_return "connection closed";
  auto tls = std::make_unique<TlsLayer>(qd_.tls_context());
  // Hold back other output (a heartbeat) until the session is up; it then goes over TLS.
  writing_ = true;
  write_started_ns_ = SteadyNs();
  asio::steady_timer deadline(shard_->io());
  deadline.expires_after(std::chrono::seconds(5));
  bool timed_out = false;
  deadline.async_wait([this, &timed_out](std::error_code ec) {
    if (ec || !socket_) return;
    timed_out = true;
    std::error_code ignored;
    socket_->cancel(ignored);
  });
  // A client that did not wait for the response may have sent its hello already.
  std::string received(read_buf_.data() + read_pos_, read_end_ - read_pos_);
  read_pos_ = read_end_ = 0;
  raw_buf_.resize(kReadChunk);
  std::optional<std::string> failure;
  std::string out;
  for (;;) {
    TlsLayer::Step step = tls->Handshake(received);
    received.clear();
    out.clear();
    tls->TakeOutput(&out);
    if (!out.empty()) {
      auto [wec, wrote] = co_await asio::async_write(*socket_, asio::buffer(out), kAsTuple);
      (void)wrote;
      if (wec) {
        failure = "handshake write: " + wec.message();
        break;
      }
    }
    if (step == TlsLayer::Step::kDone) break;
    if (step == TlsLayer::Step::kFailed) {
      failure = tls->error();
      break;
    }
    auto [rec, got] = co_await socket_->async_read_some(asio::buffer(raw_buf_), kAsTuple);
    if (rec) {
      failure = timed_out ? std::string("handshake timed out") : "handshake read: " + rec.message();
      break;
    }
    received.assign(raw_buf_.data(), got);
  }
  deadline.cancel();
  writing_ = false;
  if (failure) {
    LOG_WARN("PROTOCOL(V2): [", remote_address_, "] TLS ", *failure);
    co_return failure;
  }
  tls_ = std::move(tls);
  // Records that came with the client's last handshake flight are already inside the
  // session: take their plaintext now, as no socket read may ever announce them.
  if (!DecodeInput({})) {
    tls_.reset();
    co_return "read after handshake failed";
  }
  LOG_INFO("PROTOCOL(V2): [", remote_address_, "] upgraded to ", tls_->Version(), " (", tls_->Cipher(), ")");
  co_return std::nullopt;
}

// --- moving between shards --------------------------------------------------------------

asio::awaitable<void> ClientV2::WaitWritesIdle() {
  while (writing_ && !closed_) {
    asio::steady_timer waiter(shard_->io(), std::chrono::steady_clock::time_point::max());
    idle_waiter_ = &waiter;
    co_await waiter.async_wait(kAsTuple);
    idle_waiter_ = nullptr;
  }
}

void ClientV2::DetachFromShard() {
  // Handlers of the old timers see operation_aborted and touch nothing.
  heartbeat_timer_->cancel();
  flush_timer_->cancel();
  heartbeat_timer_.reset();
  flush_timer_.reset();
  flush_armed_ = false;
  shard_->clients.erase(id_);
  std::error_code ec;
  moving_fd_ = socket_->release(ec);
  socket_.reset();
}

void ClientV2::AttachToShard(Shard& shard, int fd) {
  shard_ = &shard;
  std::error_code ec;
  socket_ = std::make_unique<asio::ip::tcp::socket>(shard.io());
  socket_->assign(v6_ ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
  if (ec) {
    LOG_ERROR("PROTOCOL(V2): [", remote_address_, "] cannot move connection: ", ec.message());
    ::close(fd);
    closed_ = true;
  }
  heartbeat_timer_ = std::make_unique<asio::steady_timer>(shard.io());
  flush_timer_ = std::make_unique<asio::steady_timer>(shard.io());
  shard.clients[id_] = this;
  ArmHeartbeat();
  if (!out_.empty()) Flush();
}

ClientStats ClientV2::Stats() const {
  ClientStats s;
  s.client_id = client_id_;
  s.hostname = hostname_;
  s.remote_address = remote_address_;
  s.user_agent = user_agent_;
  s.state = static_cast<int>(state_);
  s.ready_count = ready_count_;
  s.in_flight_count = in_flight_count_;
  s.message_count = message_count_;
  s.finish_count = finish_count_;
  s.requeue_count = requeue_count_;
  s.connect_ts = connect_ts_;
  s.sample_rate = sample_rate_;
  s.snappy = codec_ && std::string_view(codec_->name()) == "snappy";
  s.deflate = codec_ && std::string_view(codec_->name()) == "deflate";
  s.topology_region = qd_.options().topology_region;
  s.topology_zone = qd_.options().topology_zone;
  s.pub_counts = pub_counts_;
  if (tls_) {
    s.tls = true;
    s.tls_version = tls_->Version();
    s.tls_cipher_suite = tls_->Cipher();
    s.tls_negotiated_protocol_is_mutual = true;
  }
  if (auth_) {
    s.authed = true;
    s.auth_identity = auth_->identity;
    s.auth_identity_url = auth_->identity_url;
  }
  if (!identified_ && s.client_id.empty()) {
    // nsqd shows the remote host when a client never identified.
    s.client_id = remote_address_.substr(0, remote_address_.rfind(':'));
    s.hostname = s.client_id;
  }
  return s;
}

}  // namespace q
