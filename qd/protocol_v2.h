// Protocol V2: one function per command (IDENTIFY, AUTH, SUB, PUB, MPUB, DPUB, RDY, FIN,
// REQ, TOUCH, CLS, NOP, and our TXPUB, TXCOMMIT, TXROLLBACK, TXUNKNOWN). Each validates first (returning the E_* error nsqd sends), then
// calls the topic or channel for its effect, then writes its response.
#pragma once
#include <asio.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "qd/client_v2.h"

namespace q {

class ProtocolV2 {
 public:
  using Params = std::vector<std::string_view>;

  struct Outcome {
    std::optional<ClientError> error;  // sent to the client; fatal ones close it
    Shard* moved_to = nullptr;         // the connection continues on this shard
  };

  // Commands that neither read a body nor leave the shard run without a coroutine frame.
  static bool IsAsync(std::string_view name);
  static Outcome ExecSync(ClientV2& c, const Params& params);
  static asio::awaitable<Outcome> ExecAsync(ClientV2& c, Params params);

  // Completes a SUB after the connection moved to its topic's shard.
  static Outcome FinishSub(ClientV2& c);

 private:
  static Outcome Rdy(ClientV2& c, const Params& p);
  static Outcome Fin(ClientV2& c, const Params& p);
  static Outcome Req(ClientV2& c, const Params& p);
  static Outcome Touch(ClientV2& c, const Params& p);
  static Outcome Cls(ClientV2& c, const Params& p);
  static Outcome Nop(ClientV2& c, const Params& p);
  static asio::awaitable<Outcome> Identify(ClientV2& c, Params p);
  static asio::awaitable<Outcome> Auth(ClientV2& c, Params p);
  static asio::awaitable<Outcome> Sub(ClientV2& c, Params p);
  // A publisher follows the first topic it publishes to onto that topic's shard, as a
  // subscriber does, so its publishes stop crossing threads twice (see docs/architecture.md).
  // The shard the connection is moving to (the current command runs again there), or null.
  static asio::awaitable<Shard*> FollowTopic(ClientV2& c, const std::string& topic_name);
  static asio::awaitable<Outcome> Pub(ClientV2& c, Params p);
  static asio::awaitable<Outcome> Mpub(ClientV2& c, Params p);
  static asio::awaitable<Outcome> Dpub(ClientV2& c, Params p);
  static asio::awaitable<Outcome> TxPub(ClientV2& c, Params p);
  // TXCOMMIT, TXROLLBACK and TXUNKNOWN: the same grammar, a different decision.
  static asio::awaitable<Outcome> TxDecide(ClientV2& c, Params p);

  // Reads [4-byte size][body] after checking the size is in 1..max; on a bad size returns
  // the error (code, "<prefix> invalid body size N" / "... too big"). Sets *body.
  static asio::awaitable<std::optional<ClientError>> ReadSizedBody(ClientV2& c, const char* code,
                                                                   const std::string& what,
                                                                   int64_t max, std::string* body);
  // Reads the [4-byte size][body] of PUB, DPUB, TXPUB: a size outside 1..--max-msg-size is
  // a fatal E_BAD_MESSAGE with nsqd's texts ("<cmd> invalid message body size N", ...).
  static asio::awaitable<std::optional<ClientError>> ReadMessageBody(ClientV2& c, const std::string& cmd, Body* body);
  // nsqd's CheckAuth: nothing when auth is off; else AUTH must have happened, the grant is
  // refreshed after its ttl, and it must allow cmd on topic/channel.
  static asio::awaitable<std::optional<ClientError>> CheckAuth(ClientV2& c, const char* cmd,
                                                               const std::string& topic,
                                                               const std::string& channel);
  // Asks the auth server off the shard thread; nullopt (and a log line) on failure.
  static asio::awaitable<std::optional<AuthState>> QueryAuth(ClientV2& c);
  static asio::awaitable<Outcome> Publish(ClientV2& c, const std::string& topic,
                                          std::vector<Body> bodies, int64_t deliver_at,
                                          const char* failed_code);
};

}  // namespace q
