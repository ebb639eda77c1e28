#include "tests/integration/tls_client.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace q::test {

const TestCerts& Certs() {
  static const TestCerts certs = [] {
    TestCerts c;
    std::string tmpl = (std::filesystem::temp_directory_path() / "qd-certs-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (!made) return c;
    c.dir = made;
    std::string cmd = std::string(MAKE_TEST_CERTS) + " '" + c.dir + "'";
    if (std::system(cmd.c_str()) != 0) {
      c.dir.clear();
      return c;
    }
    // Removed when the test process ends.
    static struct Cleanup {
      std::string dir;
      ~Cleanup() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
      }
    } cleanup{c.dir};
    auto f = [&](const char* name) { return c.dir + "/" + name; };
    c.ca = f("ca.pem");
    c.server_cert = f("server.pem");
    c.server_key = f("server.key");
    c.client_cert = f("client.pem");
    c.client_key = f("client.key");
    c.other_ca = f("other-ca.pem");
    c.other_client_cert = f("other-client.pem");
    c.other_client_key = f("other-client.key");
    return c;
  }();
  return certs;
}

std::unique_ptr<asio::ssl::context> ClientContext(const std::string& ca, const std::string& cert,
                                                  const std::string& key) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  std::error_code ec;
  if (!ca.empty()) {
    ctx->load_verify_file(ca, ec);
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
  }
  if (!cert.empty()) {
    ctx->use_certificate_chain_file(cert, ec);
    ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
  }
  return ctx;
}

TlsClient::TlsClient(asio::ssl::context& ctx) : tls_(socket_, ctx) {}

bool TlsClient::RunUntil(const bool& done, Duration timeout) {
  io_.restart();
  io_.run_for(timeout);
  if (done) return true;
  std::error_code ec;
  socket_.cancel(ec);
  io_.restart();
  io_.run_for(std::chrono::seconds(1));  // let the cancelled handlers finish
  return false;
}

bool TlsClient::Connect(int port) {
  bool done = false;
  std::error_code result;
  socket_.async_connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
                        [&](std::error_code ec) {
                          result = ec;
                          done = true;
                        });
  if (!RunUntil(done, kDefaultTimeout) || result) return false;
  return SendPlain(std::string(wire::kMagicV2));
}

bool TlsClient::SendPlain(const std::string& bytes) {
  bool done = false;
  std::error_code result;
  asio::async_write(socket_, asio::buffer(bytes), [&](std::error_code ec, size_t) {
    result = ec;
    done = true;
  });
  return RunUntil(done, kDefaultTimeout) && !result;
}

bool TlsClient::SendTls(const std::string& bytes) {
  bool done = false;
  std::error_code result;
  asio::async_write(tls_, asio::buffer(bytes), [&](std::error_code ec, size_t) {
    result = ec;
    done = true;
  });
  return RunUntil(done, kDefaultTimeout) && !result;
}

template <class Stream>
Frame TlsClient::ReadFrameFrom(Stream& s, Duration timeout) {
  Frame f;
  std::string header(8, '\0'), body;
  bool done = false;
  std::error_code result;
  // Exactly one frame: nothing beyond it may be consumed (TLS records may follow).
  asio::async_read(s, asio::buffer(header), [&](std::error_code ec, size_t) {
    result = ec;
    if (ec) {
      done = true;
      return;
    }
    auto be32 = [&](size_t at) {
      return (uint32_t(uint8_t(header[at])) << 24) | (uint32_t(uint8_t(header[at + 1])) << 16) |
             (uint32_t(uint8_t(header[at + 2])) << 8) | uint32_t(uint8_t(header[at + 3]));
    };
    uint32_t size = be32(0);
    f.type = static_cast<wire::FrameType>(be32(4));
    body.resize(size >= 4 ? size - 4 : 0);
    asio::async_read(s, asio::buffer(body), [&](std::error_code ec2, size_t) {
      result = ec2;
      done = true;
    });
  });
  if (!RunUntil(done, timeout)) return f;  // kTimeout
  if (result) {
    f.kind = Frame::Kind::kClosed;
    f.data = result.message();
    return f;
  }
  f.kind = Frame::Kind::kFrame;
  f.data = std::move(body);
  return f;
}

Frame TlsClient::ReadPlainFrame(Duration timeout) { return ReadFrameFrom(socket_, timeout); }
Frame TlsClient::ReadTlsFrame(Duration timeout) { return ReadFrameFrom(tls_, timeout); }

Frame TlsClient::ReadTlsSkippingHeartbeats(Duration timeout) {
  for (;;) {
    Frame f = ReadTlsFrame(timeout);
    if (!f.IsHeartbeat()) return f;
    SendTls("NOP\n");
  }
}

std::string TlsClient::Handshake(Duration timeout) {
  bool done = false;
  std::error_code result;
  tls_.async_handshake(asio::ssl::stream_base::client, [&](std::error_code ec) {
    result = ec;
    done = true;
  });
  if (!RunUntil(done, timeout)) return "handshake timed out";
  return result ? "handshake failed: " + result.message() : "";
}

std::string TlsClient::Upgrade(const std::string& extra_identify_json) {
  nlohmann::json req = nlohmann::json::parse(extra_identify_json);
  req["feature_negotiation"] = true;
  req["tls_v1"] = true;
  std::string body = req.dump();
  if (!SendPlain("IDENTIFY\n" + BE32(static_cast<uint32_t>(body.size())) + body)) return "IDENTIFY not sent";
  Frame f = ReadPlainFrame();
  if (!f.is_frame() || f.type != wire::FrameType::kResponse) return "IDENTIFY response: " + f.Describe();
  nlohmann::json r = nlohmann::json::parse(f.data, nullptr, false);
  if (!r.is_object() || r.value("tls_v1", false) != true) return "IDENTIFY response without tls_v1: " + f.data;
  std::string error = Handshake();
  if (!error.empty()) return error;
  Frame ok = ReadTlsFrame();
  if (!ok.IsResponse(wire::kOk)) return "after the handshake: " + ok.Describe();
  return "";
}

}  // namespace q::test
