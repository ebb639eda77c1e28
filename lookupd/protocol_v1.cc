#include "lookupd/protocol_v1.h"

#include <nlohmann/json.hpp>

#include "common/duration.h"
#include "common/log.h"
#include "common/names.h"

namespace q::lookupd {

using nlohmann::json;

namespace {

V1Result Fail(std::string code, std::string desc) { return V1Result{"", V1Error{std::move(code), std::move(desc)}}; }
V1Result Ok() { return V1Result{"OK", std::nullopt}; }

// Reads one optional field the way Go's json.Unmarshal fills a struct: absent or null
// leaves the default, a value of the wrong type is a decode error.
bool ReadString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}
bool ReadInt(const json& j, const char* key, int* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return false;
  int64_t v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) return false;
  *out = static_cast<int>(v);
  return true;
}

std::string Describe(const Registration& r) {
  return "category:" + r.category + " key:" + r.key + " subkey:" + r.subkey;
}

}  // namespace

ProtocolV1::ProtocolV1(RegistrationDb& db, LookupdIdentity identity) : db_(db), identity_(std::move(identity)) {}

V1Result ProtocolV1::Exec(V1Session& session, const std::vector<std::string_view>& params, int64_t now) {
  using Handler = V1Result (ProtocolV1::*)(V1Session&, const std::vector<std::string_view>&, int64_t);
  struct Command {
    std::string_view name;
    Handler handler;
  };
  static constexpr Command kCommands[] = {
      {"PING", &ProtocolV1::Ping},
      {"REGISTER", &ProtocolV1::Register},
      {"UNREGISTER", &ProtocolV1::Unregister},
  };
  std::string_view name = params.empty() ? std::string_view() : params[0];
  for (const Command& c : kCommands)
    if (c.name == name) return (this->*c.handler)(session, params, now);
  return Fail("E_INVALID", "invalid command " + std::string(name));
}

std::optional<V1Error> ProtocolV1::CheckIdentify(const V1Session& session) const {
  if (session.peer) return V1Error{"E_INVALID", "cannot IDENTIFY again"};
  return std::nullopt;
}

std::optional<V1Error> ProtocolV1::CheckIdentifySize(int64_t size) {
  if (size < 0 || size > kMaxIdentifyBodySize)
    return V1Error{"E_BAD_BODY", "IDENTIFY invalid body size " + std::to_string(size)};
  return std::nullopt;
}

V1Result ProtocolV1::Identify(V1Session& session, std::string_view body, int64_t now) {
  if (auto e = CheckIdentify(session)) return V1Result{"", *e};
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto peer = std::make_shared<PeerInfo>();
  peer->id = session.remote_address;
  bool decoded = !j.is_discarded() && (j.is_object() || j.is_null());
  if (decoded && j.is_object()) {
    decoded = ReadString(j, "hostname", &peer->hostname) &&
              ReadString(j, "broadcast_address", &peer->broadcast_address) &&
              ReadInt(j, "tcp_port", &peer->tcp_port) && ReadInt(j, "http_port", &peer->http_port) &&
              ReadString(j, "version", &peer->version) && ReadString(j, "topology_zone", &peer->topology_zone) &&
              ReadString(j, "topology_region", &peer->topology_region);
  }
  if (!decoded) return Fail("E_BAD_BODY", "IDENTIFY failed to decode JSON body");
  // The peer does not get to choose its id: it is where the connection comes from.
  peer->remote_address = session.remote_address;
  if (peer->broadcast_address.empty() || peer->tcp_port == 0 || peer->http_port == 0 || peer->version.empty())
    return Fail("E_BAD_BODY", "IDENTIFY missing fields");
  peer->last_update.store(now);

  LOG_INFO("CLIENT(", session.remote_address, "): IDENTIFY Address:", peer->broadcast_address, " TCP:",
           peer->tcp_port, " HTTP:", peer->http_port, " Version:", peer->version);
  session.peer = peer;
  db_.AddClient(peer);
  LOG_INFO("DB: client(", session.remote_address, ") REGISTER category:client key: subkey:");

  json reply = {{"tcp_port", identity_.tcp_port},
                {"http_port", identity_.http_port},
                {"version", Q_VERSION},
                {"broadcast_address", identity_.broadcast_address},
                {"hostname", identity_.hostname}};
  return V1Result{reply.dump(), std::nullopt};
}

V1Result ProtocolV1::Ping(V1Session& session, const std::vector<std::string_view>&, int64_t now) {
  // A PING may come before IDENTIFY; it then refreshes nothing.
  if (session.peer) {
    int64_t last = session.peer->last_update.exchange(now);
    LOG_DEBUG("CLIENT(", session.remote_address, "): pinged (last ping ", FormatGoDuration(Nanos(now - last)), ")");
  }
  return Ok();
}

std::optional<V1Error> ProtocolV1::TopicChannelArgs(std::string_view command,
                                                    const std::vector<std::string_view>& params,
                                                    std::string* topic, std::string* channel) {
  if (params.size() < 2) return V1Error{"E_INVALID", std::string(command) + " insufficient number of params"};
  *topic = std::string(params[1]);
  *channel = params.size() >= 3 ? std::string(params[2]) : "";
  if (!IsValidTopicName(*topic))
    return V1Error{"E_BAD_TOPIC", std::string(command) + " topic name '" + *topic + "' is not valid"};
  if (!channel->empty() && !IsValidChannelName(*channel))
    return V1Error{"E_BAD_CHANNEL", std::string(command) + " channel name '" + *channel + "' is not valid"};
  return std::nullopt;
}

V1Result ProtocolV1::Register(V1Session& session, const std::vector<std::string_view>& params, int64_t) {
  if (!session.peer) return Fail("E_INVALID", "client must IDENTIFY");
  std::string topic, channel;
  if (auto e = TopicChannelArgs("REGISTER", params, &topic, &channel)) return V1Result{"", *e};
  for (const Registration& r : db_.Register(session.peer, topic, channel))
    LOG_INFO("DB: client(", session.remote_address, ") REGISTER ", Describe(r));
  return Ok();
}

V1Result ProtocolV1::Unregister(V1Session& session, const std::vector<std::string_view>& params, int64_t) {
  if (!session.peer) return Fail("E_INVALID", "client must IDENTIFY");
  std::string topic, channel;
  if (auto e = TopicChannelArgs("UNREGISTER", params, &topic, &channel)) return V1Result{"", *e};
  for (const Registration& r : db_.Unregister(session.peer->id, topic, channel))
    LOG_INFO("DB: client(", session.remote_address, ") UNREGISTER ", Describe(r));
  return Ok();
}

void ProtocolV1::Closed(V1Session& session) {
  if (!session.peer) return;
  for (const Registration& r : db_.RemovePeer(session.peer->id))
    LOG_INFO("DB: client(", session.remote_address, ") UNREGISTER ", Describe(r));
}

}  // namespace q::lookupd
