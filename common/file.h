// The storage code's only door to the file system. Every open, read, write, fsync, rename,
// unlink and truncate of qd's data files goes through here, so a test can make any of them
// fail (disk full, EIO) without a broken disk — the seam LevelDB's Env gives its
// fault_injection_test.
//
// Functions return 0 on success or an errno value. They retry EINTR and short transfers
// themselves, so a non-zero result is a real failure worth reporting.
#pragma once
#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace q::file {

enum class Op { kOpen, kRead, kWrite, kSync, kSize, kTruncate, kRename, kUnlink, kSyncDir, kList };

// Test hook: called before each operation with the file's path (for Rename, the source).
// A non-zero return makes the operation fail with that errno without touching anything.
// Install it only while no other thread does file I/O; pass nullptr to remove it.
using FaultHook = std::function<int(Op op, const std::string& path)>;
void SetFaultHook(FaultHook hook);

// An open file descriptor that remembers its path (for messages and for the fault hook) and
// closes itself. Close errors are ignored: durability comes from DataSync, not close().
class File {
 public:
  File() = default;
  ~File() { Close(); }
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // flags as for open(2); created files get mode 0644. Replaces whatever *this held.
  int Open(const std::string& path, int flags);
  void Close();
  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  // Writes all of data at offset. *written says how much landed even when it fails part-way
  // (a full disk), so the caller knows where the file ends.
  int PWrite(std::string_view data, uint64_t offset, size_t* written);
  // Reads up to n bytes at offset; *got < n only at end of file.
  int PRead(void* buf, size_t n, uint64_t offset, size_t* got) const;
  int DataSync();  // fdatasync: data plus the size, which is all an appended file needs
  // A second descriptor for the same open file (for a sync thread), or -1 with errno set.
  int Dup() const;
  int Size(uint64_t* size) const;
  int Truncate(uint64_t size);

 private:
  int fd_ = -1;
  std::string path_;
};

// fdatasync of a descriptor from File::Dup(), on another thread; path is for the fault hook.
int DataSyncFd(int fd, const std::string& path);

int Rename(const std::string& from, const std::string& to);
int Unlink(const std::string& path);
// fsync of a directory, so a rename or a new file in it survives a power loss.
int SyncDir(const std::string& dir);
// Names (not paths) of the entries of dir, without "." and "..".
int ListDir(const std::string& dir, std::vector<std::string>* names);

// "open /data/t.q.meta: No such file or directory"
std::string Describe(std::string_view what, const std::string& path, int err);

}  // namespace q::file
