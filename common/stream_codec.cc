#include "common/stream_codec.h"

#include <snappy.h>
#include <zlib.h>

#include <cstring>

#include "common/crc32c.h"

namespace q {

namespace {

// --- Snappy framing format (github.com/google/snappy/blob/main/framing_format.txt) -------

constexpr unsigned char kChunkCompressed = 0x00;
constexpr unsigned char kChunkUncompressed = 0x01;
constexpr unsigned char kChunkPadding = 0xfe;
constexpr unsigned char kChunkStreamId = 0xff;
constexpr char kStreamId[] = {'\xff', '\x06', '\x00', '\x00', 's', 'N', 'a', 'P', 'p', 'Y'};
constexpr size_t kMaxChunkData = 65536;  // uncompressed bytes per chunk

void AppendLE24(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
  out->push_back(static_cast<char>((v >> 16) & 0xff));
}
void AppendLE32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t LoadLE32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

class SnappyCodec final : public StreamCodec {
 public:
  const char* name() const override { return "snappy"; }

  bool Compress(std::string_view data, std::string* out) override {
    if (!sent_stream_id_) {
      out->append(kStreamId, sizeof kStreamId);
      sent_stream_id_ = true;
    }
    while (!data.empty()) {
      std::string_view piece = data.substr(0, kMaxChunkData);
      data.remove_prefix(piece.size());
      uint32_t crc = crc32c::Mask(crc32c::Value(piece.data(), piece.size()));
      compressed_.clear();
      snappy::Compress(piece.data(), piece.size(), &compressed_);
      // Incompressible data goes as is (as Go's snappy writer does).
      bool use_compressed = compressed_.size() < piece.size() - piece.size() / 8;
      std::string_view payload = use_compressed ? std::string_view(compressed_) : piece;
      out->push_back(static_cast<char>(use_compressed ? kChunkCompressed : kChunkUncompressed));
      AppendLE24(out, static_cast<uint32_t>(payload.size() + 4));
      AppendLE32(out, crc);
      out->append(payload);
    }
    return true;
  }

  bool Decompress(std::string_view data, std::string* out) override {
    pending_.append(data);
    size_t pos = 0;
    while (pending_.size() - pos >= 4) {
      auto type = static_cast<unsigned char>(pending_[pos]);
      uint32_t len = static_cast<unsigned char>(pending_[pos + 1]) |
                     (static_cast<unsigned char>(pending_[pos + 2]) << 8) |
                     (static_cast<unsigned char>(pending_[pos + 3]) << 16);
      if (pending_.size() - pos - 4 < len) break;  // chunk not complete yet
      const char* body = pending_.data() + pos + 4;
      pos += 4 + len;
      if (type == kChunkStreamId) {
        if (len != 6 || std::memcmp(body, "sNaPpY", 6) != 0) return false;
        continue;
      }
      if (type == kChunkCompressed || type == kChunkUncompressed) {
        if (len < 4) return false;
        uint32_t crc = LoadLE32(body);
        std::string_view payload(body + 4, len - 4);
        size_t before = out->size();
        if (type == kChunkCompressed) {
          size_t n = 0;
          if (!snappy::GetUncompressedLength(payload.data(), payload.size(), &n) || n > kMaxChunkData)
            return false;
          decoded_.clear();
          if (!snappy::Uncompress(payload.data(), payload.size(), &decoded_)) return false;
          out->append(decoded_);
        } else {
          if (payload.size() > kMaxChunkData) return false;
          out->append(payload);
        }
        if (crc32c::Mask(crc32c::Value(out->data() + before, out->size() - before)) != crc) return false;
        continue;
      }
      if (type == kChunkPadding || type >= 0x80) continue;  // skippable
      return false;                                          // reserved unskippable chunk
    }
    pending_.erase(0, pos);
    return true;
  }

 private:
  bool sent_stream_id_ = false;
  std::string pending_, compressed_, decoded_;
};

// --- raw DEFLATE ----------------------------------------------------------------------------

class DeflateCodec final : public StreamCodec {
 public:
  explicit DeflateCodec(int level) {
    ok_ = deflateInit2(&deflate_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK &&
          inflateInit2(&inflate_, -15) == Z_OK;
  }
  ~DeflateCodec() override {
    deflateEnd(&deflate_);
    inflateEnd(&inflate_);
  }
  const char* name() const override { return "deflate"; }

  bool Compress(std::string_view data, std::string* out) override {
    if (!ok_) return false;
    deflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    deflate_.avail_in = static_cast<uInt>(data.size());
    // A sync flush after every write, so the peer can decode each frame as it arrives.
    do {
      char buf[16384];
      deflate_.next_out = reinterpret_cast<Bytef*>(buf);
      deflate_.avail_out = sizeof buf;
      int rc = deflate(&deflate_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
      out->append(buf, sizeof buf - deflate_.avail_out);
    } while (deflate_.avail_out == 0);
    return true;
  }

  bool Decompress(std::string_view data, std::string* out) override {
    if (!ok_) return false;
    inflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    inflate_.avail_in = static_cast<uInt>(data.size());
    while (true) {
      char buf[16384];
      inflate_.next_out = reinterpret_cast<Bytef*>(buf);
      inflate_.avail_out = sizeof buf;
      int rc = inflate(&inflate_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) return false;
      out->append(buf, sizeof buf - inflate_.avail_out);
      if (inflate_.avail_in == 0 && inflate_.avail_out != 0) return true;
      if (rc == Z_BUF_ERROR && inflate_.avail_out != 0) return true;
    }
  }

 private:
  bool ok_ = false;
  z_stream deflate_{};
  z_stream inflate_{};
};

}  // namespace

std::unique_ptr<StreamCodec> MakeSnappyCodec() { return std::make_unique<SnappyCodec>(); }
std::unique_ptr<StreamCodec> MakeDeflateCodec(int level) { return std::make_unique<DeflateCodec>(level); }

}  // namespace q
