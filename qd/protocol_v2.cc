#include "qd/protocol_v2.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/byte_order.h"
#include "common/log.h"
#include "common/names.h"
#include "common/wire.h"
#include "qd/channel.h"
#include "qd/qd.h"
#include "qd/run_on_topic_shard.h"
#include "qd/shard.h"
#include "qd/topic.h"

namespace q {

namespace {

using Outcome = ProtocolV2::Outcome;
using State = ClientV2::State;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t Ms(std::chrono::nanoseconds d) { return d.count() / 1000000; }

Outcome Fatal(std::string code, std::string desc) { return {ClientError{std::move(code), std::move(desc), true}}; }
Outcome NonFatal(std::string code, std::string desc) {
  return {ClientError{std::move(code), std::move(desc), false}};
}
Outcome Ok() { return {}; }

std::string Quote(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

std::optional<MessageId> ParseId(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  return MessageId::FromView(s);
}

}  // namespace

bool ProtocolV2::IsAsync(std::string_view name) {
  return name == "PUB" || name == "MPUB" || name == "DPUB" || name == "SUB" || name == "IDENTIFY" ||
         name == "AUTH" || name == "TXPUB" || name == "TXCOMMIT" || name == "TXROLLBACK" || name == "TXUNKNOWN";
}

ProtocolV2::Outcome ProtocolV2::ExecSync(ClientV2& c, const Params& p) {
  std::string_view name = p[0];
  if (name == "FIN") return Fin(c, p);
  if (name == "RDY") return Rdy(c, p);
  if (name == "REQ") return Req(c, p);
  if (name == "NOP") return Nop(c, p);
  if (name == "TOUCH") return Touch(c, p);
  if (name == "CLS") return Cls(c, p);
  return Fatal("E_INVALID", "invalid command " + std::string(name));
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::ExecAsync(ClientV2& c, Params p) {
  std::string_view name = p[0];
  if (name == "PUB") co_return co_await Pub(c, std::move(p));
  if (name == "MPUB") co_return co_await Mpub(c, std::move(p));
  if (name == "DPUB") co_return co_await Dpub(c, std::move(p));
  if (name == "SUB") co_return co_await Sub(c, std::move(p));
  if (name == "IDENTIFY") co_return co_await Identify(c, std::move(p));
  if (name == "TXPUB") co_return co_await TxPub(c, std::move(p));
  if (name == "TXCOMMIT" || name == "TXROLLBACK" || name == "TXUNKNOWN") co_return co_await TxDecide(c, std::move(p));
  co_return co_await Auth(c, std::move(p));
}

// ---------------------------------------------------------------------------------------
// Subscriber commands: run on the channel's shard, no body, no hop.

ProtocolV2::Outcome ProtocolV2::Rdy(ClientV2& c, const Params& p) {
  // nsqd ignores RDY while closing: the client may still be adjusting after CLS.
  if (c.state_ == State::kClosing) return Ok();
  if (c.state_ != State::kSubscribed) return Fatal("E_INVALID", "cannot RDY in current state");
  int64_t count = 1;
  if (p.size() > 1) {
    auto v = wire::ParseDecimal(p[1]);
    if (!v || *v > static_cast<uint64_t>(INT64_MAX))
      return Fatal("E_INVALID", "RDY could not parse count " + std::string(p[1]));
    count = static_cast<int64_t>(*v);
  }
  int64_t max = c.qd_.options().max_rdy_count;
  if (count > max)
    return Fatal("E_INVALID", "RDY count " + std::to_string(count) + " out of range 0-" + std::to_string(max));
  c.ready_count_ = count;
  if (c.channel_) c.channel_->Pump();
  // Not ready any more (RDY lowered): whatever is buffered goes out now.
  if (!c.IsReadyForMessages()) c.Flush();
  return Ok();
}

ProtocolV2::Outcome ProtocolV2::Fin(ClientV2& c, const Params& p) {
  if (c.state_ != State::kSubscribed && c.state_ != State::kClosing)
    return Fatal("E_INVALID", "cannot FIN in current state");
  if (p.size() < 2) return Fatal("E_INVALID", "FIN insufficient number of params");
  auto id = ParseId(p[1]);
  if (!id) return Fatal("E_INVALID", "Invalid Message ID");
  if (!c.channel_) return NonFatal("E_FIN_FAILED", "FIN " + std::string(p[1]) + " failed ID not in flight");
  std::string err = c.channel_->Finish(&c, *id);
  if (!err.empty()) return NonFatal("E_FIN_FAILED", "FIN " + std::string(p[1]) + " failed " + err);
  ++c.finish_count_;
  c.channel_->Pump();
  return Ok();
}

ProtocolV2::Outcome ProtocolV2::Req(ClientV2& c, const Params& p) {
  if (c.state_ != State::kSubscribed && c.state_ != State::kClosing)
    return Fatal("E_INVALID", "cannot REQ in current state");
  if (p.size() < 3) return Fatal("E_INVALID", "REQ insufficient number of params");
  auto id = ParseId(p[1]);
  if (!id) return Fatal("E_INVALID", "Invalid Message ID");
  auto ms = wire::ParseDecimal(p[2]);
  if (!ms) return Fatal("E_INVALID", "REQ could not parse timeout " + std::string(p[2]));
  // Out-of-range delays are clamped, not refused (nsqd does the same).
  int64_t max_ms = Ms(c.qd_.options().max_req_timeout);
  int64_t delay_ms = *ms > static_cast<uint64_t>(max_ms) ? max_ms : static_cast<int64_t>(*ms);
  if (!c.channel_) return NonFatal("E_REQ_FAILED", "REQ " + std::string(p[1]) + " failed ID not in flight");
  std::string err = c.channel_->Requeue(&c, *id, delay_ms * 1000000);
  if (!err.empty()) return NonFatal("E_REQ_FAILED", "REQ " + std::string(p[1]) + " failed " + err);
  ++c.requeue_count_;
  c.channel_->Pump();
  return Ok();
}

ProtocolV2::Outcome ProtocolV2::Touch(ClientV2& c, const Params& p) {
  if (c.state_ != State::kSubscribed && c.state_ != State::kClosing)
    return Fatal("E_INVALID", "cannot TOUCH in current state");
  if (p.size() < 2) return Fatal("E_INVALID", "TOUCH insufficient number of params");
  auto id = ParseId(p[1]);
  if (!id) return Fatal("E_INVALID", "Invalid Message ID");
  if (!c.channel_) return NonFatal("E_TOUCH_FAILED", "TOUCH " + std::string(p[1]) + " failed ID not in flight");
  std::string err = c.channel_->Touch(&c, *id);
  if (!err.empty()) return NonFatal("E_TOUCH_FAILED", "TOUCH " + std::string(p[1]) + " failed " + err);
  return Ok();
}

ProtocolV2::Outcome ProtocolV2::Cls(ClientV2& c, const Params&) {
  if (c.state_ != State::kSubscribed) return Fatal("E_INVALID", "cannot CLS in current state");
  c.ready_count_ = 0;
  c.state_ = State::kClosing;
  c.SendResponse(wire::kCloseWait);
  return Ok();
}

ProtocolV2::Outcome ProtocolV2::Nop(ClientV2&, const Params&) { return Ok(); }

// ---------------------------------------------------------------------------------------
// Commands with a body or a hop to another shard.

asio::awaitable<std::optional<ClientError>> ProtocolV2::ReadSizedBody(ClientV2& c, const char* code,
                                                                      const std::string& what,
                                                                      int64_t max, std::string* body) {
  if (!co_await c.Fill(4)) co_return ClientError{code, what + " failed to read body size", true};
  auto size = static_cast<int32_t>(LoadBE32(c.read_buf_.data() + c.read_pos_));
  c.read_pos_ += 4;
  // The size is checked before anything of that size is allocated.
  if (size <= 0) co_return ClientError{code, what + " invalid body size " + std::to_string(size), true};
  if (size > max)
    co_return ClientError{code, what + " body too big " + std::to_string(size) + " > " + std::to_string(max), true};
  if (!co_await c.Fill(static_cast<size_t>(size))) co_return ClientError{code, what + " failed to read body", true};
  body->assign(c.read_buf_.data() + c.read_pos_, static_cast<size_t>(size));
  c.read_pos_ += static_cast<size_t>(size);
  co_return std::nullopt;
}

asio::awaitable<std::optional<ClientError>> ProtocolV2::ReadMessageBody(ClientV2& c, const std::string& cmd,
                                                                        Body* body) {
  int64_t max = c.qd_.options().max_msg_size;
  if (!co_await c.Fill(4)) co_return ClientError{"E_BAD_MESSAGE", cmd + " failed to read message body size", true};
  auto size = static_cast<int32_t>(LoadBE32(c.read_buf_.data() + c.read_pos_));
  c.read_pos_ += 4;
  if (size <= 0) co_return ClientError{"E_BAD_MESSAGE", cmd + " invalid message body size " + std::to_string(size), true};
  if (size > max)
    co_return ClientError{"E_BAD_MESSAGE", cmd + " message too big " + std::to_string(size) + " > " + std::to_string(max), true};
  if (!co_await c.Fill(static_cast<size_t>(size)))
    co_return ClientError{"E_BAD_MESSAGE", cmd + " failed to read message body", true};
  *body = MakeBody(std::string_view(c.read_buf_.data() + c.read_pos_, static_cast<size_t>(size)));
  c.read_pos_ += static_cast<size_t>(size);
  co_return std::nullopt;
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::Identify(ClientV2& c, Params p) {
  if (c.state_ != State::kInit) co_return Fatal("E_INVALID", "cannot IDENTIFY in current state");
  (void)p;
  const Options& o = c.qd_.options();
  std::string body;
  if (auto e = co_await ReadSizedBody(c, "E_BAD_BODY", "IDENTIFY", o.max_body_size, &body)) co_return Outcome{e};
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) co_return Fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body");

  int64_t heartbeat = 0, out_size = 0, out_timeout = 0, sample_rate = 0, msg_timeout = 0, deflate_level = 0;
  bool feature_negotiation = false, tls = false, snappy = false, deflate = false;
  std::string tx_group;
  try {
    tx_group = j.value("tx_group", std::string());
    c.client_id_ = j.value("client_id", std::string());
    c.hostname_ = j.value("hostname", std::string());
    c.user_agent_ = j.value("user_agent", std::string());
    feature_negotiation = j.value("feature_negotiation", false);
    heartbeat = j.value("heartbeat_interval", int64_t{0});
    out_size = j.value("output_buffer_size", int64_t{0});
    out_timeout = j.value("output_buffer_timeout", int64_t{0});
    tls = j.value("tls_v1", false);
    snappy = j.value("snappy", false);
    deflate = j.value("deflate", false);
    deflate_level = j.value("deflate_level", int64_t{0});
    sample_rate = j.value("sample_rate", int64_t{0});
    msg_timeout = j.value("msg_timeout", int64_t{0});
  } catch (const nlohmann::json::exception&) {
    co_return Fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body");
  }
  if (c.hostname_.empty()) c.hostname_ = c.client_id_;

  // heartbeat_interval: -1 disables, 0 keeps the default, else within [1s, max].
  if (heartbeat == -1) {
    c.heartbeat_interval_ms_ = -1;
  } else if (heartbeat != 0) {
    if (heartbeat < 1000 || heartbeat > Ms(o.max_heartbeat_interval))
      co_return Fatal("E_BAD_BODY", "IDENTIFY heartbeat interval (" + std::to_string(heartbeat) + ") is invalid");
    c.heartbeat_interval_ms_ = heartbeat;
  }
  if (out_timeout == -1) {
    c.output_buffer_timeout_ms_ = 0;
  } else if (out_timeout != 0) {
    if (out_timeout < Ms(o.min_output_buffer_timeout) || out_timeout > Ms(o.max_output_buffer_timeout))
      co_return Fatal("E_BAD_BODY", "IDENTIFY output buffer timeout (" + std::to_string(out_timeout) + ") is invalid");
    c.output_buffer_timeout_ms_ = out_timeout;
  }
  if (out_size == -1) {
    c.output_buffer_size_ = 1;
    c.output_buffer_timeout_ms_ = 0;
  } else if (out_size != 0) {
    if (out_size < 64 || out_size > o.max_output_buffer_size)
      co_return Fatal("E_BAD_BODY", "IDENTIFY output buffer size (" + std::to_string(out_size) + ") is invalid");
    c.output_buffer_size_ = out_size;
  }
  if (!tx_group.empty() && !IsValidTxGroup(tx_group))
    co_return Fatal("E_BAD_BODY", "IDENTIFY tx_group " + Quote(tx_group) + " is invalid");
  if (sample_rate < 0 || sample_rate > 99)
    co_return Fatal("E_BAD_BODY", "IDENTIFY sample rate (" + std::to_string(sample_rate) + ") is invalid");
  c.sample_rate_ = static_cast<int>(sample_rate);
  if (msg_timeout != 0) {
    if (msg_timeout < 1000 || msg_timeout > Ms(o.max_msg_timeout))
      co_return Fatal("E_BAD_BODY", "IDENTIFY msg timeout (" + std::to_string(msg_timeout) + ") is invalid");
    c.msg_timeout_ms_ = msg_timeout;
  }
  bool grant_snappy = snappy && o.snappy;
  bool grant_deflate = deflate && o.deflate;
  if (grant_snappy && grant_deflate)
    co_return Fatal("E_IDENTIFY_FAILED", "cannot enable both deflate and snappy compression");
  if (deflate_level <= 0) deflate_level = 6;
  if (deflate_level > o.max_deflate_level) deflate_level = o.max_deflate_level;
  // nsqd quietly refuses TLS it has no configuration for; the client carries on in plain text.
  bool grant_tls = tls && c.qd_.tls_context() != nullptr && !c.tls_;
  c.identified_ = true;
  c.ArmHeartbeat();  // the interval may have changed
  if (!tx_group.empty() && tx_group != c.tx_group_) {
    // A transaction producer: check-backs of its group may come to this connection.
    if (!c.tx_group_.empty()) c.qd_.tx_producers().Remove(c.tx_group_, c.id_);
    c.tx_group_ = tx_group;
    c.qd_.tx_producers().Add(c.tx_group_, c.id_, c.weak_from_this(), c.shard_->io().get_executor());
  }

  if (!feature_negotiation) {
    c.SendResponse(wire::kOk);
    co_return Ok();
  }
  nlohmann::json r = {
      {"max_rdy_count", o.max_rdy_count},
      {"version", Q_VERSION},
      {"max_msg_timeout", Ms(o.max_msg_timeout)},
      {"msg_timeout", c.msg_timeout_ms_},
      {"tls_v1", grant_tls},
      {"deflate", grant_deflate},
      {"deflate_level", deflate_level},
      {"max_deflate_level", o.max_deflate_level},
      {"snappy", grant_snappy},
      {"sample_rate", c.sample_rate_},
      {"auth_required", c.qd_.auth_enabled()},
      {"output_buffer_size", c.output_buffer_size_},
      {"output_buffer_timeout", c.output_buffer_timeout_ms_},
      {"topology_region", o.topology_region},
      {"topology_zone", o.topology_zone},
  };
  if (!c.tx_group_.empty()) r["tx_group"] = c.tx_group_;
  c.SendResponse(r.dump());
  // The JSON goes out plain. Then, in nsqd's order: the TLS handshake and an OK over TLS;
  // compression on top of that and an OK through both.
  if (grant_tls) {
    std::optional<std::string> failure = co_await c.UpgradeTls();
    if (failure) co_return Fatal("E_IDENTIFY_FAILED", "IDENTIFY failed " + *failure);
    c.SendResponse(wire::kOk);
  }
  std::unique_ptr<StreamCodec> codec;
  if (grant_snappy) codec = MakeSnappyCodec();
  else if (grant_deflate) codec = MakeDeflateCodec(static_cast<int>(deflate_level));
  if (codec) {
    if (!c.EnableCompression(std::move(codec)))
      co_return Fatal("E_IDENTIFY_FAILED", "IDENTIFY failed to start compression");
    c.SendResponse(wire::kOk);
  }
  co_return Ok();
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::Auth(ClientV2& c, Params p) {
  if (c.state_ != State::kInit) co_return Fatal("E_INVALID", "cannot AUTH in current state");
  if (p.size() != 1) co_return Fatal("E_INVALID", "AUTH invalid number of parameters");
  std::string secret;
  if (auto e = co_await ReadSizedBody(c, "E_BAD_BODY", "AUTH", c.qd_.options().max_body_size, &secret))
    co_return Outcome{e};
  if (c.auth_) co_return Fatal("E_INVALID", "AUTH already set");
  if (!c.qd_.auth_enabled()) co_return Fatal("E_AUTH_DISABLED", "AUTH disabled");
  c.auth_secret_ = std::move(secret);
  std::optional<AuthState> state = co_await QueryAuth(c);
  // The reason stays in the log: an untrusted client learns only that it failed.
  if (!state) co_return Fatal("E_AUTH_FAILED", "AUTH failed");
  if (state->authorizations.empty()) co_return Fatal("E_UNAUTHORIZED", "AUTH no authorizations found");
  nlohmann::json r = {{"identity", state->identity},
                      {"identity_url", state->identity_url},
                      {"permission_count", state->authorizations.size()}};
  c.auth_ = std::move(state);
  c.SendResponse(r.dump());
  co_return Ok();
}

asio::awaitable<std::optional<AuthState>> ProtocolV2::QueryAuth(ClientV2& c) {
  const Options& o = c.qd_.options();
  AuthRequest request;
  request.addresses = o.auth_http_addresses;
  request.method = o.auth_http_request_method;
  request.remote_ip = c.remote_address_.substr(0, c.remote_address_.rfind(':'));
  if (request.remote_ip.size() >= 2 && request.remote_ip.front() == '[')
    request.remote_ip = request.remote_ip.substr(1, request.remote_ip.size() - 2);
  request.secret = c.auth_secret_;
  if (c.tls_) {
    request.tls = true;
    request.common_name = c.tls_->PeerCommonName();
  }
  request.connect_timeout = o.http_client_connect_timeout;
  request.request_timeout = o.http_client_request_timeout;
  std::string remote = c.remote_address_;
  // Named local: g++ 12 mishandles lambdas inside a co_await expression.
  auto query = [request, remote]() -> asio::awaitable<std::optional<AuthState>> {
    std::string error;
    auto state = QueryAuthServer(request, &error);
    if (!state) LOG_WARN("PROTOCOL(V2): [", remote, "] auth server: ", error);
    co_return state;
  };
  std::optional<AuthState> state = co_await asio::co_spawn(c.qd_.blocking(), std::move(query), asio::use_awaitable);
  co_return state;
}

asio::awaitable<std::optional<ClientError>> ProtocolV2::CheckAuth(ClientV2& c, const char* cmd,
                                                                  const std::string& topic,
                                                                  const std::string& channel) {
  if (!c.qd_.auth_enabled()) co_return std::nullopt;
  if (!c.auth_) co_return ClientError{"E_AUTH_FIRST", std::string("AUTH required before ") + cmd, true};
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (now >= c.auth_->expires_at) {
    std::optional<AuthState> fresh = co_await QueryAuth(c);
    if (!fresh) co_return ClientError{"E_AUTH_FAILED", "AUTH failed", true};
    c.auth_ = std::move(fresh);
  }
  bool publish = std::string_view(cmd) != "SUB";
  if (!IsAuthorized(*c.auth_, publish, topic, channel))
    co_return ClientError{"E_UNAUTHORIZED", std::string("AUTH failed for ") + cmd + " on " + Quote(topic) + " " + Quote(channel), true};
  co_return std::nullopt;
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::Sub(ClientV2& c, Params p) {
  if (c.state_ != State::kInit) co_return Fatal("E_INVALID", "cannot SUB in current state");
  if (c.heartbeat_interval_ms_ <= 0) co_return Fatal("E_INVALID", "cannot SUB with heartbeats disabled");
  // Check-backs are sent on the shard the connection identified on; a subscriber moves.
  if (!c.tx_group_.empty()) co_return Fatal("E_INVALID", "cannot SUB on a transaction producer connection");
  if (p.size() < 3) co_return Fatal("E_INVALID", "SUB insufficient number of parameters");
  std::string topic_name(p[1]), channel_name(p[2]);
  if (!IsValidTopicName(topic_name))
    co_return Fatal("E_BAD_TOPIC", "SUB topic name " + Quote(topic_name) + " is not valid");
  if (!IsValidChannelName(channel_name))
    co_return Fatal("E_BAD_CHANNEL", "SUB channel name " + Quote(channel_name) + " is not valid");
  if (auto e = co_await CheckAuth(c, "SUB", topic_name, channel_name)) co_return Outcome{e};
  auto topic = c.qd_.GetOrCreateTopic(topic_name);
  if (!topic) co_return Fatal("E_SUB_FAILED", "SUB failed to create topic (exiting)");
  c.topic_ = topic;
  c.pending_channel_ = channel_name;
  if (&topic->shard() == c.shard_) co_return FinishSub(c);
  // The consumer joins its topic's thread so delivery and acknowledgements never cross
  // threads. Pipelined commands already read stay in the read buffer and go along.
  co_await c.WaitWritesIdle();
  if (c.closed_) co_return Ok();
  c.DetachFromShard();
  co_return Outcome{std::nullopt, &topic->shard()};
}

asio::awaitable<Shard*> ProtocolV2::FollowTopic(ClientV2& c, const std::string& topic_name) {
  // A subscriber, even after CLS, stays with its channel: its FINs must run on that thread.
  if (c.followed_topic_ || c.state_ != State::kInit || c.channel_ != nullptr || !c.tx_group_.empty()) co_return nullptr;
  c.followed_topic_ = true;
  Shard& target = c.qd_.ShardFor(topic_name);
  if (&target == c.shard_) co_return nullptr;
  co_await c.WaitWritesIdle();
  if (c.closed_) co_return nullptr;
  // Nothing of this command was consumed after its line: rewinding runs it again there.
  c.read_pos_ = c.command_pos_;
  c.DetachFromShard();
  co_return &target;
}

ProtocolV2::Outcome ProtocolV2::FinishSub(ClientV2& c) {
  Topic& topic = *c.topic_;
  std::string channel_name = std::move(c.pending_channel_);
  Channel* channel = topic.exiting() ? nullptr : topic.GetOrCreateChannel(channel_name);
  if (channel == nullptr) {
    c.topic_.reset();
    return Fatal("E_SUB_FAILED", "SUB failed to create channel (topic exiting)");
  }
  std::string error;
  if (!channel->AddClient(&c, &error)) {
    c.topic_.reset();
    return Fatal("E_SUB_FAILED", "SUB failed " + error);
  }
  c.channel_ = channel;
  c.state_ = State::kSubscribed;
  c.SendResponse(wire::kOk);
  return Ok();
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::Publish(ClientV2& c, const std::string& topic_name,
                                                         std::vector<Body> bodies, int64_t deliver_at,
                                                         const char* failed_code) {
  std::string verb(failed_code + 2);
  verb = verb.substr(0, verb.find('_'));
  auto topic = c.qd_.GetOrCreateTopic(topic_name);
  if (!topic) co_return Fatal(failed_code, verb + " failed exiting");
  size_t n = bodies.size();
  // With --sync-every=1 the OK waits until the records are fsynced.
  auto publish = [bodies = std::move(bodies), deliver_at](Topic& t, std::string* error) mutable {
    return t.Publish(std::move(bodies), deliver_at, error);
  };
  TopicAnswer<bool> answer = co_await RunOnTopicShard(topic, std::move(publish), true);
  if (!answer.result) co_return Fatal(failed_code, verb + " failed " + answer.error);
  c.pub_counts_[topic_name] += static_cast<int64_t>(n);
  c.SendResponse(wire::kOk);
  co_return Ok();
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::Pub(ClientV2& c, Params p) {
  if (p.size() < 2) co_return Fatal("E_INVALID", "PUB insufficient number of parameters");
  std::string topic(p[1]);
  if (!IsValidTopicName(topic)) co_return Fatal("E_BAD_TOPIC", "PUB topic name " + Quote(topic) + " is not valid");
  if (Shard* to = co_await FollowTopic(c, topic)) co_return Outcome{std::nullopt, to};
  Body body;
  if (auto e = co_await ReadMessageBody(c, "PUB", &body)) co_return Outcome{e};
  std::vector<Body> bodies{std::move(body)};
  if (auto e = co_await CheckAuth(c, "PUB", topic, "")) co_return Outcome{e};
  co_return co_await Publish(c, topic, std::move(bodies), 0, "E_PUB_FAILED");
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::Dpub(ClientV2& c, Params p) {
  if (p.size() < 3) co_return Fatal("E_INVALID", "DPUB insufficient number of parameters");
  std::string topic(p[1]);
  if (!IsValidTopicName(topic)) co_return Fatal("E_BAD_TOPIC", "DPUB topic name " + Quote(topic) + " is not valid");
  auto ms = wire::ParseDecimal(p[2]);
  if (!ms) co_return Fatal("E_INVALID", "DPUB could not parse timeout " + std::string(p[2]));
  int64_t max_ms = Ms(c.qd_.options().max_req_timeout);
  if (*ms > static_cast<uint64_t>(max_ms))
    co_return Fatal("E_INVALID", "DPUB timeout " + std::string(p[2]) + " out of range 0-" + std::to_string(max_ms));
  if (Shard* to = co_await FollowTopic(c, topic)) co_return Outcome{std::nullopt, to};
  Body body;
  if (auto e = co_await ReadMessageBody(c, "DPUB", &body)) co_return Outcome{e};
  std::vector<Body> bodies{std::move(body)};
  if (auto e = co_await CheckAuth(c, "DPUB", topic, "")) co_return Outcome{e};
  int64_t deliver_at = *ms > 0 ? NowNs() + static_cast<int64_t>(*ms) * 1000000 : 0;
  co_return co_await Publish(c, topic, std::move(bodies), deliver_at, "E_DPUB_FAILED");
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::Mpub(ClientV2& c, Params p) {
  if (p.size() < 2) co_return Fatal("E_INVALID", "MPUB insufficient number of parameters");
  std::string topic(p[1]);
  // The doubled code is nsqd's own text; clients only read the prefix.
  if (!IsValidTopicName(topic))
    co_return Fatal("E_BAD_TOPIC", "E_BAD_TOPIC MPUB topic name " + Quote(topic) + " is not valid");
  if (Shard* to = co_await FollowTopic(c, topic)) co_return Outcome{std::nullopt, to};
  const Options& o = c.qd_.options();
  if (auto e = co_await CheckAuth(c, "MPUB", topic, "")) co_return Outcome{e};
  // nsqd creates the topic before reading the body, so even a refused MPUB leaves it.
  if (!c.qd_.GetOrCreateTopic(topic)) co_return Fatal("E_MPUB_FAILED", "MPUB failed exiting");
  if (!co_await c.Fill(4)) co_return Fatal("E_BAD_BODY", "MPUB failed to read body size");
  auto body_size = static_cast<int32_t>(LoadBE32(c.read_buf_.data() + c.read_pos_));
  c.read_pos_ += 4;
  if (body_size <= 0) co_return Fatal("E_BAD_BODY", "MPUB invalid body size " + std::to_string(body_size));
  if (body_size > o.max_body_size)
    co_return Fatal("E_BAD_BODY", "MPUB body too big " + std::to_string(body_size) + " > " + std::to_string(o.max_body_size));
  // Read the declared body whole, then parse within it: a count or sizes that disagree
  // with the body size are refused instead of desynchronising the stream.
  if (!co_await c.Fill(static_cast<size_t>(body_size))) co_return Fatal("E_BAD_BODY", "MPUB failed to read body");
  std::string_view body(c.read_buf_.data() + c.read_pos_, static_cast<size_t>(body_size));
  c.read_pos_ += static_cast<size_t>(body_size);
  if (body.size() < 4) co_return Fatal("E_BAD_BODY", "MPUB failed to read message count");
  auto count = static_cast<int32_t>(LoadBE32(body.data()));
  body.remove_prefix(4);
  int64_t max_messages = (o.max_body_size - 4) / 5;
  if (count <= 0 || count > max_messages)
    co_return Fatal("E_BAD_BODY", "MPUB invalid message count " + std::to_string(count));
  std::vector<Body> bodies;
  bodies.reserve(static_cast<size_t>(std::min<int64_t>(count, static_cast<int64_t>(body.size() / 5) + 1)));
  for (int32_t i = 0; i < count; ++i) {
    if (body.size() < 4) co_return Fatal("E_BAD_MESSAGE", "MPUB failed to read message body size");
    auto size = static_cast<int32_t>(LoadBE32(body.data()));
    body.remove_prefix(4);
    if (size <= 0) co_return Fatal("E_BAD_MESSAGE", "MPUB invalid message body size " + std::to_string(size));
    if (size > o.max_msg_size)
      co_return Fatal("E_BAD_MESSAGE", "MPUB message too big " + std::to_string(size) + " > " + std::to_string(o.max_msg_size));
    if (body.size() < static_cast<size_t>(size)) co_return Fatal("E_BAD_MESSAGE", "MPUB failed to read message body");
    bodies.push_back(MakeBody(body.substr(0, static_cast<size_t>(size))));
    body.remove_prefix(static_cast<size_t>(size));
  }
  if (!body.empty())
    co_return Fatal("E_BAD_BODY", "MPUB body size mismatch: " + std::to_string(body.size()) + " bytes after the last message");
  co_return co_await Publish(c, topic, std::move(bodies), 0, "E_MPUB_FAILED");
}

// ---------------------------------------------------------------------------------------
// Transactions (docs/transactions.md).

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::TxPub(ClientV2& c, Params p) {
  if (p.size() != 3) co_return Fatal("E_INVALID", "TXPUB insufficient number of parameters");
  std::string topic_name(p[1]), txid(p[2]);
  if (!IsValidTopicName(topic_name))
    co_return Fatal("E_BAD_TOPIC", "TXPUB topic name " + Quote(topic_name) + " is not valid");
  if (!IsValidTxid(txid)) co_return Fatal("E_BAD_TXID", "TXPUB txid " + Quote(txid) + " is not valid");
  Body body;
  if (auto e = co_await ReadMessageBody(c, "TXPUB", &body)) co_return Outcome{e};
  // Refused after the body was read, so the stream stays in step and the error is not fatal.
  if (c.tx_group_.empty())
    co_return NonFatal("E_TX_NO_GROUP", "TXPUB needs a connection that sent tx_group in IDENTIFY");
  if (auto e = co_await CheckAuth(c, "TXPUB", topic_name, "")) co_return Outcome{e};
  auto topic = c.qd_.GetOrCreateTopic(topic_name);
  if (!topic) co_return Fatal("E_TXPUB_FAILED", "TXPUB failed exiting");
  auto fn = [txid, group = c.tx_group_, body](Topic& t, std::string* error) {
    return t.TxPublish(txid, group, "", body, error);
  };
  TopicAnswer<Topic::TxResult> reply = co_await RunOnTopicShard(topic, std::move(fn), true);
  switch (reply.result) {
    case Topic::TxResult::kOk:
      break;
    case Topic::TxResult::kExists:
      co_return NonFatal("E_TX_EXISTS", "TXPUB " + reply.error);
    default:
      co_return Fatal("E_TXPUB_FAILED", "TXPUB failed " + reply.error);
  }
  c.pub_counts_[topic_name] += 1;
  c.SendResponse(wire::kOk);
  co_return Ok();
}

asio::awaitable<ProtocolV2::Outcome> ProtocolV2::TxDecide(ClientV2& c, Params p) {
  const std::string cmd(p[0]);
  if (p.size() != 3) co_return Fatal("E_INVALID", cmd + " insufficient number of parameters");
  std::string topic_name(p[1]), txid(p[2]);
  if (!IsValidTopicName(topic_name))
    co_return Fatal("E_BAD_TOPIC", cmd + " topic name " + Quote(topic_name) + " is not valid");
  if (!IsValidTxid(txid)) co_return Fatal("E_BAD_TXID", cmd + " txid " + Quote(txid) + " is not valid");
  if (auto e = co_await CheckAuth(c, cmd.c_str(), topic_name, "")) co_return Outcome{e};
  TxAnswer answer = cmd == "TXCOMMIT" ? TxAnswer::kCommit : cmd == "TXROLLBACK" ? TxAnswer::kRollback : TxAnswer::kUnknown;
  // A decision never creates a topic: on a topic qd does not have, the txid is unknown.
  auto topic = c.qd_.FindTopic(topic_name);
  if (!topic) co_return NonFatal("E_TX_UNKNOWN", cmd + " txid " + Quote(txid) + " is not a half message of topic " + Quote(topic_name));
  auto fn = [txid, answer](Topic& t, std::string* error) { return t.TxDecide(txid, answer, error); };
  TopicAnswer<Topic::TxResult> reply = co_await RunOnTopicShard(topic, std::move(fn), answer == TxAnswer::kCommit);
  switch (reply.result) {
    case Topic::TxResult::kOk:
      break;
    case Topic::TxResult::kUnknown:
      co_return NonFatal("E_TX_UNKNOWN", cmd + " " + reply.error);
    case Topic::TxResult::kDecided:
      co_return NonFatal("E_TX_DECIDED", cmd + " " + reply.error);
    default:
      co_return Fatal(cmd == "TXUNKNOWN" ? "E_TXUNKNOWN_FAILED" : "E_" + cmd + "_FAILED", cmd + " failed " + reply.error);
  }
  c.SendResponse(wire::kOk);
  co_return Ok();
}

}  // namespace q
