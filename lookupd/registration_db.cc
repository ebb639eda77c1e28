#include "lookupd/registration_db.h"

#include <mutex>
#include <set>

#include "common/names.h"

namespace q::lookupd {

namespace {

bool IsWildcard(std::string_view s) { return s == "*"; }

Registration Reg(std::string_view category, std::string_view key, std::string_view subkey) {
  return Registration{std::string(category), std::string(key), std::string(subkey)};
}

}  // namespace

RegistrationDb::RegistrationDb(Nanos inactive_producer_timeout, Nanos tombstone_lifetime)
    : inactive_producer_timeout_(inactive_producer_timeout), tombstone_lifetime_(tombstone_lifetime) {}

bool RegistrationDb::IsActive(const PeerInfo& peer, int64_t now) const {
  return now - peer.last_update.load() <= inactive_producer_timeout_.count();
}

bool RegistrationDb::IsTombstoned(const Producer& p, int64_t now) const {
  return p.tombstoned && now - p.tombstoned_at < tombstone_lifetime_.count();
}

ProducerView RegistrationDb::View(const Producer& p) {
  return ProducerView{p.peer, p.tombstoned, p.tombstoned_at};
}

template <class Fn>
void RegistrationDb::ForEachMatch(const Map& map, std::string_view category, std::string_view key,
                                  std::string_view subkey, Fn fn) const {
  // Exact keys are one lookup; a wildcard scans the category's range (the map is ordered by
  // category, then key, then subkey, so "topic t, any channel" is a contiguous run too).
  if (!IsWildcard(key) && !IsWildcard(subkey)) {
    if (auto it = map.find(Reg(category, key, subkey)); it != map.end()) fn(it->first, it->second);
    return;
  }
  Registration from = Reg(category, IsWildcard(key) ? "" : key, "");
  for (auto it = map.lower_bound(from); it != map.end(); ++it) {
    const Registration& r = it->first;
    if (r.category != category) break;
    if (!IsWildcard(key) && r.key != key) break;
    if (!IsWildcard(subkey) && r.subkey != subkey) continue;
    fn(r, it->second);
  }
}

bool RegistrationDb::AddProducerLocked(const Registration& r, const std::shared_ptr<PeerInfo>& peer) {
  ProducerMap& producers = map_[r];
  return producers.try_emplace(peer->id, Producer{peer, false, 0}).second;
}

std::pair<bool, size_t> RegistrationDb::RemoveProducerLocked(const Registration& r, const std::string& peer_id) {
  auto it = map_.find(r);
  if (it == map_.end()) return {false, 0};
  bool removed = it->second.erase(peer_id) > 0;
  // The key itself stays, even when empty: lookupd keeps listing topics and channels
  // nobody produces any more until they are deleted over HTTP (as nsqlookupd).
  return {removed, it->second.size()};
}

// --- TCP side ---------------------------------------------------------------------------

void RegistrationDb::AddClient(const std::shared_ptr<PeerInfo>& peer) {
  std::unique_lock lock(mu_);
  AddProducerLocked(Reg(kClientCategory, "", ""), peer);
}

std::vector<Registration> RegistrationDb::Register(const std::shared_ptr<PeerInfo>& peer,
                                                   const std::string& topic, const std::string& channel) {
  std::vector<Registration> added;
  std::unique_lock lock(mu_);
  if (!channel.empty()) {
    Registration r = Reg(kChannelCategory, topic, channel);
    if (AddProducerLocked(r, peer)) added.push_back(std::move(r));
  }
  Registration r = Reg(kTopicCategory, topic, "");
  if (AddProducerLocked(r, peer)) added.push_back(std::move(r));
  return added;
}

std::vector<Registration> RegistrationDb::Unregister(const std::string& peer_id, const std::string& topic,
                                                     const std::string& channel) {
  std::vector<Registration> removed;
  std::unique_lock lock(mu_);
  if (!channel.empty()) {
    Registration r = Reg(kChannelCategory, topic, channel);
    auto [was_there, left] = RemoveProducerLocked(r, peer_id);
    // An ephemeral channel exists only while someone has it; its key goes with the last one.
    if (left == 0 && IsEphemeral(channel)) map_.erase(r);
    if (was_there) removed.push_back(std::move(r));
    return removed;
  }
  // A topic unregistration also drops the peer from the topic's channels.
  std::vector<Registration> channels;
  ForEachMatch(map_, kChannelCategory, topic, "*",
               [&](const Registration& r, const ProducerMap&) { channels.push_back(r); });
  for (Registration& r : channels) {
    if (RemoveProducerLocked(r, peer_id).first) removed.push_back(std::move(r));
  }
  Registration r = Reg(kTopicCategory, topic, "");
  auto [was_there, left] = RemoveProducerLocked(r, peer_id);
  if (left == 0 && IsEphemeral(topic)) map_.erase(r);
  if (was_there) removed.push_back(std::move(r));
  return removed;
}

std::vector<Registration> RegistrationDb::RemovePeer(const std::string& peer_id) {
  std::vector<Registration> removed;
  std::unique_lock lock(mu_);
  for (auto& [r, producers] : map_) {
    if (producers.erase(peer_id) > 0) removed.push_back(r);
  }
  return removed;
}

// --- HTTP side ----------------------------------------------------------------------------

std::vector<std::string> RegistrationDb::Topics() const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  ForEachMatch(map_, kTopicCategory, "*", "", [&](const Registration& r, const ProducerMap&) { out.push_back(r.key); });
  return out;
}

std::vector<std::string> RegistrationDb::Channels(const std::string& topic) const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  ForEachMatch(map_, kChannelCategory, topic, "*",
               [&](const Registration& r, const ProducerMap&) { out.push_back(r.subkey); });
  return out;
}

std::optional<LookupResult> RegistrationDb::Lookup(const std::string& topic, int64_t now) const {
  LookupResult result;
  std::shared_lock lock(mu_);
  auto it = map_.find(Reg(kTopicCategory, topic, ""));
  if (it == map_.end()) return std::nullopt;
  ForEachMatch(map_, kChannelCategory, topic, "*",
               [&](const Registration& r, const ProducerMap&) { result.channels.push_back(r.subkey); });
  for (const auto& [id, p] : it->second) {
    if (!IsActive(*p.peer, now) || IsTombstoned(p, now)) continue;
    result.producers.push_back(p.peer);
  }
  return result;
}

std::vector<NodeView> RegistrationDb::Nodes(int64_t now) const {
  std::vector<NodeView> nodes;
  std::shared_lock lock(mu_);
  auto clients = map_.find(Reg(kClientCategory, "", ""));
  if (clients == map_.end()) return nodes;
  for (const auto& [id, client] : clients->second) {
    // Inactive peers are left out; tombstoned ones are not (nsqadmin shows the tombstones).
    if (!IsActive(*client.peer, now)) continue;
    NodeView node{client.peer, {}, {}};
    ForEachMatch(map_, kTopicCategory, "*", "", [&](const Registration& r, const ProducerMap& producers) {
      auto p = producers.find(id);
      if (p == producers.end()) return;
      node.topics.push_back(r.key);
      node.tombstones.push_back(IsTombstoned(p->second, now));
    });
    nodes.push_back(std::move(node));
  }
  return nodes;
}

void RegistrationDb::CreateTopic(const std::string& topic) {
  std::unique_lock lock(mu_);
  map_.try_emplace(Reg(kTopicCategory, topic, ""));
}

void RegistrationDb::DeleteTopic(const std::string& topic) {
  std::unique_lock lock(mu_);
  std::vector<Registration> doomed;
  ForEachMatch(map_, kChannelCategory, topic, "*", [&](const Registration& r, const ProducerMap&) { doomed.push_back(r); });
  doomed.push_back(Reg(kTopicCategory, topic, ""));
  for (const Registration& r : doomed) map_.erase(r);
}

void RegistrationDb::CreateChannel(const std::string& topic, const std::string& channel) {
  std::unique_lock lock(mu_);
  map_.try_emplace(Reg(kChannelCategory, topic, channel));
  map_.try_emplace(Reg(kTopicCategory, topic, ""));
}

bool RegistrationDb::DeleteChannel(const std::string& topic, const std::string& channel) {
  std::unique_lock lock(mu_);
  return map_.erase(Reg(kChannelCategory, topic, channel)) > 0;
}

int RegistrationDb::TombstoneTopicProducer(const std::string& topic, const std::string& node, int64_t now) {
  int matched = 0;
  std::unique_lock lock(mu_);
  auto it = map_.find(Reg(kTopicCategory, topic, ""));
  if (it == map_.end()) return 0;
  for (auto& [id, p] : it->second) {
    if (p.peer->broadcast_address + ":" + std::to_string(p.peer->http_port) != node) continue;
    p.tombstoned = true;
    p.tombstoned_at = now;
    ++matched;
  }
  return matched;
}

std::map<Registration, std::vector<ProducerView>> RegistrationDb::Dump() const {
  std::map<Registration, std::vector<ProducerView>> out;
  std::shared_lock lock(mu_);
  for (const auto& [r, producers] : map_) {
    auto& list = out[r];
    for (const auto& [id, p] : producers) list.push_back(View(p));
  }
  return out;
}

// --- lower level ----------------------------------------------------------------------------

std::vector<Registration> RegistrationDb::FindRegistrations(std::string_view category, std::string_view key,
                                                            std::string_view subkey) const {
  std::vector<Registration> out;
  std::shared_lock lock(mu_);
  ForEachMatch(map_, category, key, subkey, [&](const Registration& r, const ProducerMap&) { out.push_back(r); });
  return out;
}

std::vector<ProducerView> RegistrationDb::FindProducers(std::string_view category, std::string_view key,
                                                        std::string_view subkey) const {
  std::vector<ProducerView> out;
  std::set<std::string> seen;
  std::shared_lock lock(mu_);
  ForEachMatch(map_, category, key, subkey, [&](const Registration&, const ProducerMap& producers) {
    for (const auto& [id, p] : producers)
      if (seen.insert(id).second) out.push_back(View(p));
  });
  return out;
}

std::vector<Registration> RegistrationDb::LookupRegistrations(const std::string& peer_id) const {
  std::vector<Registration> out;
  std::shared_lock lock(mu_);
  for (const auto& [r, producers] : map_)
    if (producers.contains(peer_id)) out.push_back(r);
  return out;
}

}  // namespace q::lookupd
