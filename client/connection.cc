#include "client/connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "client/command.h"
#include "client/tls_session.h"
#include "common/stream_codec.h"
#include "common/byte_order.h"
#include "common/host_port.h"

namespace q {

namespace {

Status Fail(const std::string& address, const std::string& what) {
  return Status::Error("connect " + address + ": " + what);
}

// Connects one resolved address with a deadline; returns the fd in blocking mode or -1.
int ConnectOne(const addrinfo* ai, std::chrono::milliseconds timeout, std::string* error) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0) {
    *error = strerror(errno);
    return -1;
  }
  int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc == 0) {
      *error = "timed out";
      close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (rc < 0 || err != 0) {
      *error = strerror(rc < 0 ? errno : err);
      close(fd);
      return -1;
    }
  } else if (rc != 0) {
    *error = strerror(errno);
    close(fd);
    return -1;
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

std::unique_ptr<Connection> Connection::Dial(const std::string& address, const IdentifyOptions& identify,
                                             Status* status) {
  const ConnectionOptions& o = identify.connection;
  const std::chrono::milliseconds timeout = o.dial_timeout;
  if (o.snappy && o.deflate) {
    *status = Fail(address, "snappy and deflate both asked for: choose one");
    return nullptr;
  }
  std::string host;
  int port = 0;
  if (!ParseHostPort(address, &host, &port) || port == 0) {
    *status = Status::Error("invalid address \"" + address + "\" (want host:port)");
    return nullptr;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int gai = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0) {
    *status = Fail(address, gai_strerror(gai));
    return nullptr;
  }
  std::string error = "no address";
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ConnectOne(ai, timeout, &error);
  }
  freeaddrinfo(res);
  if (fd < 0) {
    *status = Fail(address, error);
    return nullptr;
  }
  // The handshake must not hang on a peer that accepts but never answers.
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  std::unique_ptr<Connection> conn(new Connection(fd, address));
  nlohmann::json j = {{"client_id", o.client_id},
                      {"hostname", o.client_id},
                      {"user_agent", o.user_agent},
                      {"feature_negotiation", true},
                      {"heartbeat_interval", o.heartbeat_interval_ms}};
  if (identify.msg_timeout_ms > 0) j["msg_timeout"] = identify.msg_timeout_ms;
  if (identify.output_buffer_timeout_ms != 0) {
    j["output_buffer_timeout"] = identify.output_buffer_timeout_ms;
  }
  if (!identify.tx_group.empty()) j["tx_group"] = identify.tx_group;
  if (o.tls.enabled) j["tls_v1"] = true;
  if (o.snappy) j["snappy"] = true;
  if (o.deflate) {
    j["deflate"] = true;
    j["deflate_level"] = o.deflate_level;
  }
  std::string out(wire::kMagicV2);
  command::AppendIdentify(out, j.dump());
  if (!conn->Write(out)) {
    *status = Fail(address, "write failed");
    return nullptr;
  }
  wire::FrameType type;
  std::string_view data;
  if (!conn->ReadFrame(&type, &data)) {
    *status = Fail(address, "no answer to IDENTIFY");
    return nullptr;
  }
  if (type != wire::FrameType::kResponse) {
    *status = Fail(address, "IDENTIFY: " + std::string(data));
    return nullptr;
  }
  // Feature negotiation: a JSON object (a qd without it answers plain "OK").
  nlohmann::json resp = nlohmann::json::object();
  if (!data.empty() && data.front() == '{') {
    resp = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (!resp.is_object()) resp = nlohmann::json::object();
  }
  auto granted = [&resp](const char* key) { return resp.value(key, false); };
  if (resp.contains("max_rdy_count") && resp["max_rdy_count"].is_number_integer()) {
    conn->max_rdy_count_ = resp["max_rdy_count"].get<int>();
  }
  // A qd without transactions ignores the key; its connection would never get check-backs.
  if (!identify.tx_group.empty() && !(resp.contains("tx_group") && resp["tx_group"] == identify.tx_group)) {
    *status = Fail(address, "IDENTIFY: qd did not accept tx_group (no transaction support?)");
    return nullptr;
  }
  // The order qd follows: TLS, then compression, then AUTH (spec: tcp-protocol.md, IDENTIFY).
  if (o.tls.enabled) {
    if (!granted("tls_v1")) {
      *status = Fail(address, "qd did not agree to TLS (tls_v1); is it run with --tls-cert and --tls-key?");
      return nullptr;
    }
    if (!conn->UpgradeToTls(host, o.tls, status)) return nullptr;
  }
  if (o.snappy || o.deflate) {
    const char* what = o.snappy ? "snappy" : "deflate";
    if (!granted(what)) {
      *status = Fail(address, std::string("qd did not agree to ") + what + " (is it run with --" + what + "=false?)");
      return nullptr;
    }
    if (!conn->StartCompression(o.snappy, resp.value("deflate_level", o.deflate_level), status)) return nullptr;
  }
  if (granted("auth_required") && !conn->Authenticate(o.auth_secret, status)) return nullptr;
  *status = Status::Ok();
  return conn;
}

bool Connection::Authenticate(const std::string& secret, Status* status) {
  if (secret.empty()) {
    *status = Fail(address_, "qd requires AUTH (it runs with --auth-http-address) and no auth secret was given");
    return false;
  }
  std::string out;
  command::AppendAuth(out, secret);
  wire::FrameType type;
  std::string_view data;
  if (!Write(out) || !ReadFrame(&type, &data)) {
    *status = Fail(address_, "no answer to AUTH");
    return false;
  }
  if (type != wire::FrameType::kResponse) {
    *status = Fail(address_, "AUTH: " + std::string(data));
    return false;
  }
  return true;  // the answer is {"identity":..., "permission_count":N}; nothing here needs it
}

Connection::Connection(int fd, std::string address) : fd_(fd), address_(std::move(address)) {}

Connection::~Connection() {
  tls_.reset();
  close(fd_);
}

bool Connection::UpgradeToTls(const std::string& host, const TlsOptions& options, Status* status) {
  std::string error;
  tls_ = TlsSession::Handshake(fd_, host, options, &error);
  if (!tls_) {
    *status = Fail(address_, error);
    return false;
  }
  wire::FrameType type;
  std::string_view data;
  if (!ReadFrame(&type, &data) || type != wire::FrameType::kResponse || data != wire::kOk) {
    *status = Fail(address_, "no OK after the TLS handshake");
    return false;
  }
  return true;
}

bool Connection::StartCompression(bool snappy, int deflate_level, Status* status) {
  codec_out_ = snappy ? MakeSnappyCodec() : MakeDeflateCodec(deflate_level);
  codec_in_ = snappy ? MakeSnappyCodec() : MakeDeflateCodec(deflate_level);
  // qd's compressed OK may have arrived with the IDENTIFY answer: what was read past that
  // frame is already compressed.
  std::string rest = read_buf_.substr(read_pos_);
  read_buf_.clear();
  read_pos_ = 0;
  wire::FrameType type;
  std::string_view data;
  if (!codec_in_->Decompress(rest, &read_buf_) || !ReadFrame(&type, &data) ||
      type != wire::FrameType::kResponse || data != wire::kOk) {
    *status = Fail(address_, std::string("no OK after starting ") + codec_in_->name());
    return false;
  }
  return true;
}

bool Connection::Write(std::string_view bytes) {
  std::lock_guard lock(write_mu_);
  return SendLocked(bytes);
}

void Connection::Buffer(std::string_view bytes) {
  std::lock_guard lock(write_mu_);
  pending_.append(bytes);
  if (pending_.size() >= kMaxPending) SendLocked({});
}

bool Connection::AnswerHeartbeat(wire::FrameType type, std::string_view data) {
  if (type != wire::FrameType::kResponse || data != wire::kHeartbeat) return false;
  std::string nop;
  command::AppendNop(nop);
  Write(nop);
  return true;
}

bool Connection::Flush() {
  std::lock_guard lock(write_mu_);
  return SendLocked({});
}

bool Connection::SendLocked(std::string_view bytes) {
  if (!pending_.empty()) {
    // Buffered commands go first, in one send with these bytes.
    pending_.append(bytes);
    bytes = pending_;
  }
  std::string compressed;
  if (codec_out_ && !bytes.empty()) {
    if (!codec_out_->Compress(bytes, &compressed)) {
      pending_.clear();
      return false;
    }
    bytes = compressed;
  }
  bool ok = true;
  if (tls_) {
    ok = tls_->Write(bytes);
    bytes = {};
  }
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  pending_.clear();
  return ok;
}

bool Connection::ReadFrame(wire::FrameType* type, std::string_view* data) {
  while (true) {
    size_t consumed = 0;
    std::string_view avail(read_buf_.data() + read_pos_, read_buf_.size() - read_pos_);
    auto frame = wire::ParseFrame(avail, &consumed);
    if (frame) {
      read_pos_ += consumed;
      *type = frame->type;
      *data = frame->data;
      return true;
    }
    // Compact before reading more (the previous frame's data is no longer needed).
    if (read_pos_ > 0) {
      read_buf_.erase(0, read_pos_);
      read_pos_ = 0;
    }
    if (!ReadMore()) return false;
  }
}

ssize_t Connection::RawRead(char* buf, size_t len) {
  if (tls_) return tls_->Read(buf, len);
  ssize_t n;
  do {
    n = recv(fd_, buf, len, 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

bool Connection::ReadMore() {
  size_t want = 64 * 1024;
  if (codec_in_) {
    // Decompressed bytes land in read_buf_; a chunk may decode to nothing yet.
    raw_.resize(want);
    ssize_t n = RawRead(raw_.data(), want);
    return n > 0 && codec_in_->Decompress(std::string_view(raw_.data(), static_cast<size_t>(n)), &read_buf_);
  }
  size_t old = read_buf_.size();
  if (old >= 8) {  // grow to hold the whole pending frame
    size_t frame_size = 4 + static_cast<size_t>(LoadBE32(read_buf_.data()));
    if (frame_size > old + want) want = frame_size - old;
  }
  read_buf_.resize(old + want);
  ssize_t n = RawRead(read_buf_.data() + old, want);
  read_buf_.resize(old + static_cast<size_t>(n > 0 ? n : 0));
  return n > 0;
}

void Connection::SetReadTimeout(std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void Connection::Shutdown() { shutdown(fd_, SHUT_RDWR); }

}  // namespace q
