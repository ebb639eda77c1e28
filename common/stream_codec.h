// Compression of a whole connection's byte stream, as IDENTIFY negotiates it: the Snappy
// framing format ("snappy": true) or raw DEFLATE, RFC 1951 without a zlib header
// ("deflate": true). Pure byte transforms: no sockets, so they are unit-tested alone and
// shared by qd and the client library.
//
// Thread-safety: none; one codec per connection, used by the thread that owns it.
#pragma once
#include <memory>
#include <string>
#include <string_view>

namespace q {

class StreamCodec {
 public:
  virtual ~StreamCodec() = default;
  virtual const char* name() const = 0;
  // Appends data, compressed and flushed, to *out: the peer can decode all of it from what
  // has been sent so far. False only on an internal error.
  virtual bool Compress(std::string_view data, std::string* out) = 0;
  // Feeds bytes received from the peer; appends what they decode to *out (possibly nothing
  // when a chunk is still incomplete). False when the stream is corrupt.
  virtual bool Decompress(std::string_view data, std::string* out) = 0;
};

std::unique_ptr<StreamCodec> MakeSnappyCodec();
// level 1..9
std::unique_ptr<StreamCodec> MakeDeflateCodec(int level);

}  // namespace q
