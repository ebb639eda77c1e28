// CRC-32C (Castagnoli), as LevelDB and our on-disk records use it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace q::crc32c {

// Returns the crc32c of data[0,n) continuing from init_crc (0 for a fresh checksum).
uint32_t Extend(uint32_t init_crc, const void* data, size_t n);
// The same without the SSE 4.2 instruction (what Extend uses on other CPUs); for tests.
uint32_t ExtendPortable(uint32_t init_crc, const void* data, size_t n);
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// A CRC stored next to the data it covers is masked, so that a CRC of a string that itself
// contains CRCs is not trivially related to them (LevelDB's reasoning, util/crc32c.h).
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace q::crc32c
