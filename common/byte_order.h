// Big-endian integer helpers: every integer on NSQ's wire is big-endian.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace q {

inline uint32_t LoadBE32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint16_t LoadBE16(const void* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint64_t LoadBE64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline void StoreBE32(void* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void StoreBE16(void* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void StoreBE64(void* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline void AppendBE32(std::string& out, uint32_t v) {
  char b[4];
  StoreBE32(b, v);
  out.append(b, 4);
}
inline void AppendBE64(std::string& out, uint64_t v) {
  char b[8];
  StoreBE64(b, v);
  out.append(b, 8);
}
inline void AppendBE16(std::string& out, uint16_t v) {
  char b[2];
  StoreBE16(b, v);
  out.append(b, 2);
}

}  // namespace q
