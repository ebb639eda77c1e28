#include "common/file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

namespace q::file {

namespace {
// The flag keeps the production path to one relaxed load; the mutex only guards the
// std::function against a concurrent SetFaultHook.
std::atomic<bool> hook_set{false};
std::mutex hook_mu;
FaultHook& HookStorage() {
  static FaultHook hook;
  return hook;
}

int Injected(Op op, const std::string& path) {
  if (!hook_set.load(std::memory_order_relaxed)) return 0;
  FaultHook hook;
  {
    std::lock_guard lock(hook_mu);
    hook = HookStorage();  // a copy, so the hook may itself do file I/O
  }
  return hook ? hook(op, path) : 0;
}
}  // namespace

void SetFaultHook(FaultHook hook) {
  std::lock_guard lock(hook_mu);
  hook_set.store(static_cast<bool>(hook));
  HookStorage() = std::move(hook);
}

File::File(File&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

int File::Open(const std::string& path, int flags) {
  Close();
  path_ = path;
  if (int err = Injected(Op::kOpen, path)) return err;
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno;
  fd_ = fd;
  return 0;
}

void File::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int File::PWrite(std::string_view data, uint64_t offset, size_t* written) {
  *written = 0;
  if (int err = Injected(Op::kWrite, path_)) return err;
  while (*written < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + *written, data.size() - *written,
                         static_cast<off_t>(offset + *written));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;  // no progress and no errno: treat as a full disk
    *written += static_cast<size_t>(n);
  }
  return 0;
}

int File::PRead(void* buf, size_t n, uint64_t offset, size_t* got) const {
  *got = 0;
  if (int err = Injected(Op::kRead, path_)) return err;
  auto* out = static_cast<char*>(buf);
  while (*got < n) {
    ssize_t r = ::pread(fd_, out + *got, n - *got, static_cast<off_t>(offset + *got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) break;
    *got += static_cast<size_t>(r);
  }
  return 0;
}

int File::DataSync() {
  if (int err = Injected(Op::kSync, path_)) return err;
  return ::fdatasync(fd_) == 0 ? 0 : errno;
}

int File::Dup() const { return ::fcntl(fd_, F_DUPFD_CLOEXEC, 0); }

int DataSyncFd(int fd, const std::string& path) {
  if (int err = Injected(Op::kSync, path)) return err;
  return ::fdatasync(fd) == 0 ? 0 : errno;
}

int File::Size(uint64_t* size) const {
  if (int err = Injected(Op::kSize, path_)) return err;
  struct stat st;
  if (::fstat(fd_, &st) != 0) return errno;
  *size = static_cast<uint64_t>(st.st_size);
  return 0;
}

int File::Truncate(uint64_t size) {
  if (int err = Injected(Op::kTruncate, path_)) return err;
  int rc;
  do {
    rc = ::ftruncate(fd_, static_cast<off_t>(size));
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
}

int Rename(const std::string& from, const std::string& to) {
  if (int err = Injected(Op::kRename, from)) return err;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

int Unlink(const std::string& path) {
  if (int err = Injected(Op::kUnlink, path)) return err;
  return ::unlink(path.c_str()) == 0 ? 0 : errno;
}

int SyncDir(const std::string& dir) {
  if (int err = Injected(Op::kSyncDir, dir)) return err;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

int ListDir(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  if (int err = Injected(Op::kList, dir)) return err;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno;
  while (true) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names->emplace_back(name);
  }
  int err = errno;
  ::closedir(d);
  return err;
}

std::string Describe(std::string_view what, const std::string& path, int err) {
  std::string out(what);
  out += ' ';
  out += path;
  out += ": ";
  out += std::strerror(err);
  return out;
}

}  // namespace q::file
