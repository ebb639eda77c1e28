// RunQctl: runs the qctl binary (QCTL_BINARY) through the shell, bounded by `timeout 60`, with
// stdin from a temp file, and returns its exit code and combined stdout+stderr.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace q::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline CommandResult RunQctl(const std::string& args, const std::string& input = "") {
  CommandResult r;
  char path[] = "/tmp/qctl_in_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return r;
  bool wrote = input.empty() || write(fd, input.data(), input.size()) == ssize_t(input.size());
  close(fd);
  if (!wrote) {
    unlink(path);
    return r;
  }
  std::string cmd = std::string("timeout 60 ") + QCTL_BINARY + " " + args + " < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
    int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  unlink(path);
  return r;
}

}  // namespace q::test
