// ProtocolV1: the commands qd sends to qlookupd over TCP (spec: lookupd.md §1,
// nsqlookupd/lookup_protocol_v1.go). Each handler validates, applies its effect to the
// RegistrationDb and returns the reply; none touches a socket (the connection in
// tcp_server.cc reads lines and the IDENTIFY body and writes the replies).
//
// Wire: commands are text lines; every reply, error or not, is framed [4-byte size][data]
// with no frame type. Every error is fatal: the connection sends it and closes.
//
// Thread-safety: a ProtocolV1 is shared by all connections and has no mutable state of its
// own (the RegistrationDb locks itself); a V1Session belongs to one connection.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lookupd/registration_db.h"

namespace q::lookupd {

// IDENTIFY bodies larger than this are refused. nsqlookupd reads the size unchecked (a
// negative one crashes it); qd's IDENTIFY is a few hundred bytes.
inline constexpr int64_t kMaxIdentifyBodySize = 1 << 20;

struct V1Error {
  std::string code;  // "E_INVALID"
  std::string desc;  // "invalid command FOO"
  // The reply: "E_INVALID invalid command FOO".
  std::string Text() const { return code + " " + desc; }
};

// One reply, or the error to send before closing.
struct V1Result {
  std::string response;
  std::optional<V1Error> error;
};

// Per-connection state.
struct V1Session {
  std::string remote_address;       // "ip:port", also the peer id
  std::shared_ptr<PeerInfo> peer;   // set by IDENTIFY
};

// What qlookupd says about itself in the IDENTIFY reply.
struct LookupdIdentity {
  int tcp_port = 0;
  int http_port = 0;
  std::string broadcast_address;
  std::string hostname;
};

class ProtocolV1 {
 public:
  ProtocolV1(RegistrationDb& db, LookupdIdentity identity);

  // Runs one command line, already split on spaces (params[0] is the command). IDENTIFY
  // goes through the two calls below instead, since it carries a body.
  V1Result Exec(V1Session& session, const std::vector<std::string_view>& params, int64_t now);

  // IDENTIFY, before its body is read: an error if the session is already identified.
  std::optional<V1Error> CheckIdentify(const V1Session& session) const;
  // An error if size (the body's 4-byte prefix, signed as on the wire) is out of bounds.
  static std::optional<V1Error> CheckIdentifySize(int64_t size);
  // IDENTIFY with its body: records the peer and answers with qlookupd's identity.
  V1Result Identify(V1Session& session, std::string_view body, int64_t now);

  // The connection closed: the peer leaves every registration.
  void Closed(V1Session& session);

 private:
  V1Result Ping(V1Session& session, const std::vector<std::string_view>& params, int64_t now);
  V1Result Register(V1Session& session, const std::vector<std::string_view>& params, int64_t now);
  V1Result Unregister(V1Session& session, const std::vector<std::string_view>& params, int64_t now);
  // Validates "REGISTER <topic> [<channel>]" params; returns the error or sets the names.
  static std::optional<V1Error> TopicChannelArgs(std::string_view command, const std::vector<std::string_view>& params,
                                                 std::string* topic, std::string* channel);

  RegistrationDb& db_;
  const LookupdIdentity identity_;
};

}  // namespace q::lookupd
