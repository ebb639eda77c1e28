// The live connections of each transaction group, for check-backs: a half message whose
// producer went away is asked about on any connection that identified with the same group.
//
// Thread-safety: all members may be called from any thread (one mutex). A connection adds
// itself at IDENTIFY and removes itself when it ends; it never changes shard afterwards (a
// transaction producer cannot SUB), so its shard's executor is where frames are written.
#pragma once
#include <asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace q {

class ClientV2;

class TxProducers {
 public:
  void Add(const std::string& group, uint64_t client_id, std::weak_ptr<ClientV2> client, asio::any_io_executor executor);
  void Remove(const std::string& group, uint64_t client_id);

  // Sends a check-back frame (type 3, payload as given) to the next connection of group in
  // turn. False when the group has no live connection.
  bool SendCheck(const std::string& group, std::string payload);

  size_t connections(const std::string& group) const;

 private:
  struct Member {
    uint64_t id;
    std::weak_ptr<ClientV2> client;
    asio::any_io_executor executor;
  };
  struct Group {
    std::vector<Member> members;
    size_t next = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Group> groups_;
};

}  // namespace q
