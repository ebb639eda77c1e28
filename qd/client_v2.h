// ClientV2: one TCP connection speaking protocol V2 — its socket, read buffer, output
// buffer, IDENTIFY settings, RDY and in-flight counts, heartbeats. The command handlers are
// in protocol_v2.cc; this file owns the I/O.
//
// Thread-safety: a ClientV2 lives on one shard and is touched only on that thread. On SUB
// it moves to the shard of its topic (the socket is re-registered there), so a consumer and
// its channel always share a thread. Owned by shared_ptrs held by its own coroutines and
// pending I/O handlers; the shard's registry and its channel hold raw pointers that are
// removed before it goes away.
#pragma once
#include <asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/message.h"
#include "common/stream_codec.h"
#include "qd/auth.h"
#include "qd/subscriber.h"
#include "qd/stats.h"
#include "qd/tls_layer.h"

namespace q {

class Qd;
class Shard;
class Topic;
class Channel;

struct ClientError {
  std::string code;  // "E_INVALID"
  std::string desc;  // "cannot SUB in current state"
  bool fatal = true;
};

class ClientV2 final : public Subscriber, public std::enable_shared_from_this<ClientV2> {
 public:
  enum class State { kInit = 0, kSubscribed = 3, kClosing = 4 };

  ClientV2(Qd& qd, Shard& shard, asio::ip::tcp::socket socket);
  ~ClientV2();

  // Starts the connection's coroutine on its shard (reads the magic, then commands).
  void Start();
  // Closes the socket; the session ends and leaves its channel. Idempotent.
  void Close();

  // --- for the channel (same thread) ---
  uint64_t id() const override { return id_; }
  bool IsReadyForMessages() const override {
    return state_ == State::kSubscribed && in_flight_count_ < ready_count_ && !closed_;
  }
  // Buffers a message frame and counts it in flight.
  void SendMessage(const Message& m) override;
  // A message of this client left flight (FIN, REQ, timeout).
  void InFlightDone() override {
    if (in_flight_count_ > 0) --in_flight_count_;
  }
  // The channel was emptied: nothing of this client is in flight any more.
  void ResetInFlight() override { in_flight_count_ = 0; }
  int64_t msg_timeout_ns() const override { return msg_timeout_ms_ * 1000000; }
  int sample_rate() const override { return sample_rate_; }
  // The channel is being deleted: forget it and close the connection (nsqd does too).
  void DetachFromChannel() override;
  ClientStats Stats() const override;
  bool is_producer() const { return !pub_counts_.empty(); }
  // Buffers a check-back frame (type 3) and writes it out (docs/transactions.md).
  void SendTxCheck(std::string_view payload);

 private:
  friend class ProtocolV2;
  using Params = std::vector<std::string_view>;

  asio::awaitable<void> Run();
  asio::awaitable<void> ResumeAfterMove();
  asio::awaitable<void> CommandLoop();
  // Ensures at least n unread bytes are buffered. False if the connection ended.
  asio::awaitable<bool> Fill(size_t n);
  // Reads a 4-byte big-endian size followed by that many bytes, after checking the size
  // with check(size) (which returns an error to send instead). Sets *body.
  void Teardown();

  // Output.
  void SendResponse(std::string_view data);
  void SendError(const ClientError& e);
  void Flush();
  void ArmFlushTimer();
  void ArmHeartbeat();
  void OnHeartbeatTick();

  // Compression negotiated by IDENTIFY: from now on both directions go through codec.
  // Bytes already buffered for output (the IDENTIFY response) still go out plain, and
  // unread input already received is decoded first. False if that input is corrupt.
  bool EnableCompression(std::unique_ptr<StreamCodec> codec);
  // IDENTIFY tls_v1: once everything buffered so far has gone out in the clear, runs the
  // server side of the handshake (nsqd's 5 s deadline); from then on both directions go
  // through the TLS layer, beneath any compression. nullopt on success, else the reason.
  asio::awaitable<std::optional<std::string>> UpgradeTls();
  // Output after the layers (compression, then TLS) into wbuf_. False on a layer error.
  bool EncodeOutput();
  // Input from the socket through the layers into read_buf_. False on a layer error.
  bool DecodeInput(std::string_view received);

  // Moving to another shard (SUB of a topic owned elsewhere, a publisher's first publish).
  asio::awaitable<void> WaitWritesIdle();
  void DetachFromShard();
  void AttachToShard(Shard& shard, int fd);

  Qd& qd_;
  Shard* shard_;
  uint64_t id_;
  std::unique_ptr<asio::ip::tcp::socket> socket_;
  std::unique_ptr<asio::steady_timer> heartbeat_timer_, flush_timer_;
  asio::steady_timer* idle_waiter_ = nullptr;
  bool v6_ = false;
  std::string remote_address_;
  int64_t connect_ts_ = 0;

  // Input: unread bytes are read_buf_[read_pos_, read_end_).
  std::vector<char> read_buf_;
  size_t read_pos_ = 0, read_end_ = 0;
  size_t command_pos_ = 0;  // where the current command's line starts, to run it again after a move
  int64_t last_command_ns_ = 0;  // steady clock; read deadline = 2 heartbeats

  // Compression (snappy or deflate), when negotiated: raw_buf_ receives socket bytes;
  // plain_prefix_ bytes at the front of out_ predate it and go out uncompressed.
  std::unique_ptr<StreamCodec> codec_;
  std::vector<char> raw_buf_;
  std::string decoded_, coded_;
  size_t plain_prefix_ = 0;

  // TLS, when negotiated: beneath compression, so socket bytes meet it first.
  std::unique_ptr<TlsLayer> tls_;
  std::string tls_plain_;

  // Output: out_ collects frames; wbuf_ is being written.
  std::string out_, wbuf_;
  bool writing_ = false, flush_armed_ = false, close_after_flush_ = false;
  int64_t write_started_ns_ = 0;
  bool closed_ = false;
  int moving_fd_ = -1;

  // IDENTIFY.
  bool identified_ = false;
  std::string client_id_, hostname_, user_agent_;
  int64_t heartbeat_interval_ms_;
  int64_t output_buffer_size_;
  int64_t output_buffer_timeout_ms_;
  int64_t msg_timeout_ms_;
  int sample_rate_ = 0;

  // Subscription.
  State state_ = State::kInit;
  std::shared_ptr<Topic> topic_;
  Channel* channel_ = nullptr;
  std::string pending_channel_;  // SUB in progress across a move
  bool followed_topic_ = false;   // a publisher moves to a topic's shard at most once
  int64_t ready_count_ = 0, in_flight_count_ = 0, message_count_ = 0, finish_count_ = 0,
          requeue_count_ = 0;
  std::map<std::string, int64_t> pub_counts_;
  std::string tx_group_;  // IDENTIFY tx_group: a transaction producer

  // AUTH: the secret and what the auth server granted (re-asked after its ttl).
  std::string auth_secret_;
  std::optional<AuthState> auth_;
};

}  // namespace q
