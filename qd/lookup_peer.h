// LookupPeer: qd's connection to one qlookupd (spec: lookupd.md §2, nsqd/lookup_peer.go).
//
// It connects (1 s dial timeout), sends the magic "  V1" and IDENTIFY, then REGISTERs every
// topic and channel qd has (from the snapshot callback) and afterwards the commands given to
// Command() in order, one at a time: each waits for its reply with a 1 s deadline. A PING
// goes out every ping interval. Any error, timeout or EOF drops the connection and a new one
// is dialled after a backoff (200 ms doubling up to the ping interval); since the new
// connection replays IDENTIFY and all REGISTERs, commands given while disconnected are
// dropped. Unlike nsqd, which notices a dead lookupd only at its next command, a peer keeps
// a read pending, so a restarted qlookupd is re-registered with as soon as it accepts again.
//
// Thread-safety: everything runs on the io_context passed in (LookupClient's thread), except
// http_address() and address(), which any thread may call. Owned by shared_ptrs: the
// LookupClient's list and the peer's own coroutines; after Close() it goes away once they end.
#pragma once
#include <asio.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace q {

class LookupPeer : public std::enable_shared_from_this<LookupPeer> {
 public:
  struct Settings {
    std::chrono::nanoseconds ping_interval = std::chrono::seconds(15);
    std::chrono::nanoseconds io_timeout = std::chrono::seconds(1);  // dial, and each reply
    size_t max_reply_size = 5 * 1024 * 1024;
    std::string identify_body;  // the IDENTIFY JSON
    // Called on (re)connect: the REGISTER lines ("REGISTER t c\n") for everything qd has.
    std::function<std::vector<std::string>()> snapshot;
  };

  LookupPeer(asio::io_context& io, std::string address, Settings settings);
  ~LookupPeer();

  const std::string& address() const { return address_; }
  // "broadcast_address:http_port" from the last IDENTIFY reply; nullopt before the first.
  std::optional<std::string> http_address() const;

  // Starts connecting. Call once.
  void Start();
  // Sends a command line ("REGISTER t c\n") if connected; dropped otherwise (the next
  // connection replays everything).
  void Command(std::string line);
  // Closes the connection for good (peer removed or qd stopping). Idempotent.
  void Close();

 private:
  struct Connection;

  asio::awaitable<void> Run();
  // Dials, sends magic + IDENTIFY and reads the reply. nullptr on failure.
  asio::awaitable<std::shared_ptr<Connection>> Connect();
  // Sends commands and PINGs until the connection breaks or Close().
  asio::awaitable<void> Serve(Connection& conn);
  // Writes bytes and waits for one reply under the io timeout. False if the connection broke.
  asio::awaitable<bool> Exchange(Connection& conn, std::string_view bytes, std::string* reply);
  // Reads replies into conn's queue until the connection breaks.
  static asio::awaitable<void> ReadReplies(std::shared_ptr<LookupPeer> self, std::shared_ptr<Connection> conn);
  void Break(Connection& conn, const std::string& why);
  bool HandleIdentifyReply(const std::string& reply);

  asio::io_context& io_;
  const std::string address_;
  const Settings settings_;
  asio::steady_timer backoff_timer_;
  bool closed_ = false;
  std::shared_ptr<Connection> conn_;   // while connected or connecting
  bool identified_ = false;            // conn_ passed IDENTIFY; Command() queues
  std::deque<std::string> queue_;      // commands waiting to be sent on conn_

  mutable std::mutex http_mu_;
  std::optional<std::string> http_address_;  // guarded by http_mu_
};

}  // namespace q
