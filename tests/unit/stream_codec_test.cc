#include "common/stream_codec.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <random>

namespace q {
namespace {

std::string Sample(size_t n, bool compressible) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (auto& c : s) c = compressible ? "abcab"[rng() % 5] : static_cast<char>(rng());
  return s;
}

// Feeds the compressed stream back one odd-sized piece at a time, as a socket would.
std::string RoundTrip(StreamCodec& sender, StreamCodec& receiver, const std::vector<std::string>& writes) {
  std::string wire;
  for (const auto& w : writes) EXPECT_TRUE(sender.Compress(w, &wire));
  std::string decoded;
  for (size_t i = 0; i < wire.size(); i += 7) EXPECT_TRUE(receiver.Decompress(std::string_view(wire).substr(i, 7), &decoded));
  return decoded;
}

TEST(StreamCodec, SnappyRoundTripsAcrossChunkBoundaries) {
  auto a = MakeSnappyCodec(), b = MakeSnappyCodec();
  std::vector<std::string> writes = {"OK", Sample(200000, true), Sample(70000, false), ""};
  std::string all;
  for (auto& w : writes) all += w;
  EXPECT_EQ(RoundTrip(*a, *b, writes), all);
}

TEST(StreamCodec, SnappyStreamStartsWithTheStreamIdentifier) {
  auto a = MakeSnappyCodec();
  std::string wire;
  a->Compress("x", &wire);
  ASSERT_GE(wire.size(), 10u);
  EXPECT_EQ(wire.substr(0, 10), std::string("\xff\x06\x00\x00sNaPpY", 10));
}

TEST(StreamCodec, SnappyRejectsABadChecksum) {
  auto a = MakeSnappyCodec(), b = MakeSnappyCodec();
  std::string wire;
  a->Compress(Sample(1000, true), &wire);
  wire[14] ^= 0x01;  // inside the first chunk's CRC
  std::string out;
  EXPECT_FALSE(b->Decompress(wire, &out));
}

TEST(StreamCodec, SnappyRejectsReservedUnskippableChunks) {
  auto b = MakeSnappyCodec();
  std::string out;
  EXPECT_FALSE(b->Decompress(std::string("\x02\x01\x00\x00z", 5), &out));
}

TEST(StreamCodec, DeflateRoundTripsEachFlushedWrite) {
  auto a = MakeDeflateCodec(6), b = MakeDeflateCodec(6);
  std::string wire, out;
  // Every Compress is decodable on its own (sync flush): the peer never waits for more.
  for (const std::string& w : {std::string("OK"), Sample(100000, true), Sample(5000, false)}) {
    wire.clear();
    ASSERT_TRUE(a->Compress(w, &wire));
    out.clear();
    ASSERT_TRUE(b->Decompress(wire, &out));
    EXPECT_EQ(out, w);
  }
}

TEST(StreamCodec, DeflateRejectsGarbage) {
  auto b = MakeDeflateCodec(6);
  std::string out;
  EXPECT_FALSE(b->Decompress(std::string(64, '\xff'), &out));
}

}  // namespace
}  // namespace q
