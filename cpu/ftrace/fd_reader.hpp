// Reads a file descriptor through a fixed buffer as a std::streambuf, so a recording streams
// whatever its size, and hashes what it reads (FNV-1a 64, as sim::stable_hash) for the imported
// recording's source. Closes the descriptor unless it is standard input.
#pragma once
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <streambuf>

namespace vcpusim::cpu {

class FdReader final : public std::streambuf {
 public:
  explicit FdReader(int fd) : fd_(fd) {}
  ~FdReader() override {
    if (fd_ != STDIN_FILENO) ::close(fd_);
  }
  FdReader(const FdReader&) = delete;
  FdReader& operator=(const FdReader&) = delete;
  std::uint64_t hash() const { return hash_; }
  std::uint64_t bytes() const { return bytes_; }

 protected:
  int_type underflow() override {
    for (;;) {
      const ssize_t n = ::read(fd_, buf_, sizeof buf_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return traits_type::eof();
      for (ssize_t i = 0; i < n; ++i) {
        hash_ ^= static_cast<unsigned char>(buf_[i]);
        hash_ *= 0x100000001b3ULL;
      }
      bytes_ += static_cast<std::uint64_t>(n);
      setg(buf_, buf_, buf_ + n);
      return traits_type::to_int_type(buf_[0]);
    }
  }

 private:
  int fd_;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::uint64_t bytes_ = 0;
  char buf_[1 << 16];
};

}  // namespace vcpusim::cpu
