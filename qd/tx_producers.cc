#include "qd/tx_producers.h"

#include "qd/client_v2.h"

namespace q {

void TxProducers::Add(const std::string& group, uint64_t client_id, std::weak_ptr<ClientV2> client,
                      asio::any_io_executor executor) {
  std::lock_guard lock(mu_);
  groups_[group].members.push_back({client_id, std::move(client), std::move(executor)});
}

void TxProducers::Remove(const std::string& group, uint64_t client_id) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return;
  auto& members = it->second.members;
  std::erase_if(members, [client_id](const Member& m) { return m.id == client_id; });
  if (members.empty()) groups_.erase(it);
}

bool TxProducers::SendCheck(const std::string& group, std::string payload) {
  std::weak_ptr<ClientV2> target;
  asio::any_io_executor executor;
  {
    std::lock_guard lock(mu_);
    auto it = groups_.find(group);
    if (it == groups_.end() || it->second.members.empty()) return false;
    Group& g = it->second;
    const Member& m = g.members[g.next++ % g.members.size()];
    target = m.client;
    executor = m.executor;
  }
  // The connection may end before the frame is written: that check then goes unanswered
  // and the next one (after the backoff) picks another connection.
  asio::post(executor, [target, payload = std::move(payload)]() mutable {
    if (auto c = target.lock()) c->SendTxCheck(payload);
  });
  return true;
}

size_t TxProducers::connections(const std::string& group) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  return it == groups_.end() ? 0 : it->second.members.size();
}

}  // namespace q
