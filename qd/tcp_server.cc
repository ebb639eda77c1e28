#include "qd/tcp_server.h"

#include "common/log.h"
#include "common/tcp_listen.h"
#include "qd/client_v2.h"
#include "qd/qd.h"
#include "qd/shard.h"

namespace q {

TcpServer::TcpServer(Qd& qd) : qd_(qd), acceptor_(qd.shards()[0]->io()) {}

bool TcpServer::Listen(const std::string& address, std::string* error) {
  if (!ListenTcp(acceptor_, address, &port_, &local_address_, error)) return false;
  Accept();
  return true;
}

void TcpServer::Accept() {
  Shard& shard = qd_.NextShard();
  acceptor_.async_accept(shard.io(), [this, &shard](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      LOG_ERROR("TCP: accept error: ", ec.message());
    } else {
      auto client = std::make_shared<ClientV2>(qd_, shard, std::move(socket));
      asio::post(shard.io(), [client] { client->Start(); });
    }
    Accept();
  });
}

void TcpServer::Close() {
  RunSync(*qd_.shards()[0], [this] {
    std::error_code ec;
    acceptor_.close(ec);
    return true;
  });
}

}  // namespace q
