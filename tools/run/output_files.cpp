#include "tools/run/output_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <streambuf>

#include "sim/config/config.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {
namespace {

namespace fs = std::filesystem;

std::string canonical(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : p.string();
}

// The same file: one resolved path, or one inode (a hard link or a symlink to it).
bool same_file(const std::string& a, const std::string& b) {
  if (canonical(a) == canonical(b)) return true;
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

[[noreturn]] void fail(const std::string& option, const std::string& path, const std::string& why) {
  throw sim::ConfigError(option + " " + sim::quote(path) + ": " + why);
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

// An output may only replace a regular file (or a symlink to one, which is replaced, not
// followed) or take a free name: renaming over a device node would replace the device itself
// (as root, --json /dev/null would leave /dev/null a regular file).
void require_replaceable(const std::string& option, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return;
  const bool link = S_ISLNK(st.st_mode);
  if (link && (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode))) return;
  fail(option, path,
       std::string("is ") + (link ? "a symlink to " : "") + kind_of(st.st_mode) +
           "; allowed: a regular file or a name that does not exist yet");
}

}  // namespace

struct OutputFiles::Stream {
  // An ostream buffer over a file descriptor that remembers a failed write.
  class FdBuffer final : public std::streambuf {
   public:
    explicit FdBuffer(int fd) : fd_(fd) { setp(buf_, buf_ + sizeof buf_); }
    bool failed() const { return failed_; }

   protected:
    int_type overflow(int_type c) override {
      if (sync() != 0) return traits_type::eof();
      if (!traits_type::eq_int_type(c, traits_type::eof())) {
        *pptr() = traits_type::to_char_type(c);
        pbump(1);
      }
      return traits_type::not_eof(c);
    }
    int sync() override {
      const char* p = pbase();
      while (!failed_ && p < pptr()) {
        const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
          failed_ = true;
        else
          p += n;
      }
      setp(buf_, buf_ + sizeof buf_);
      return failed_ ? -1 : 0;
    }

   private:
    int fd_;
    bool failed_ = false;
    char buf_[1 << 16];
  };

  explicit Stream(int fd) : fd(fd), buf(fd), out(&buf) {}
  int fd;
  FdBuffer buf;
  std::ostream out;
};

OutputFiles::OutputFiles(std::vector<std::string> inputs) : inputs_(std::move(inputs)) {}

OutputFiles::~OutputFiles() {
  for (auto& o : outputs_) {
    if (o.stream) ::close(o.stream->fd);
    if (!o.tmp.empty()) ::unlink(o.tmp.c_str());
  }
}

void OutputFiles::declare(const std::string& option, const std::string& path) {
  if (path.empty()) fail(option, path, "is an empty path; allowed: a file name");
  for (const auto& in : inputs_)
    if (same_file(path, in))
      fail(option, path, "names an input of this command; allowed: a file that is not read");
  for (const auto& o : outputs_)
    if (same_file(path, o.path))
      fail(option, path, "is also the file of " + o.option + "; allowed: one file per output");
  require_replaceable(option, path);
  outputs_.push_back({option, path, "", nullptr});
}

void OutputFiles::add_input(const std::string& path) {
  for (const auto& o : outputs_)
    if (same_file(o.path, path))
      fail(o.option, o.path, "names an input of this command; allowed: a file that is not read");
  inputs_.push_back(path);
}

OutputFiles::Output& OutputFiles::find(const std::string& path) {
  for (auto& o : outputs_)
    if (o.path == path) return o;
  throw sim::SimError("output " + path + " was not declared");
}

std::ostream& OutputFiles::open(const std::string& path) {
  Output* out = &find(path);
  const fs::path dir = fs::path(path).parent_path();
  std::string tmpl =
      ((dir.empty() ? fs::path(".") : dir) / ("." + fs::path(path).filename().string() + ".XXXXXX"))
          .string();
  const int fd = ::mkstemp(tmpl.data());  // O_CREAT|O_EXCL: never opens an existing name
  if (fd < 0)
    fail(out->option, path,
         std::string("cannot create a file in its directory: ") + std::strerror(errno));
  out->tmp = tmpl;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  out->stream = std::make_shared<Stream>(fd);
  return out->stream->out;
}

void OutputFiles::close(Output& out) {
  if (!out.stream) return;
  const std::shared_ptr<Stream> s = std::move(out.stream);
  s->out.flush();
  const bool ok = !s->buf.failed() && s->out.good() && ::fsync(s->fd) == 0;
  const int saved = errno;
  ::close(s->fd);
  if (!ok) fail(out.option, out.path, std::string("cannot write: ") + std::strerror(saved));
}

void OutputFiles::write(const std::string& path,
                        const std::function<void(std::ostream&)>& content) {
  content(open(path));
  close(find(path));
}

void OutputFiles::commit() {
  for (auto& o : outputs_) close(o);
  for (const auto& o : outputs_)
    if (!o.tmp.empty()) require_replaceable(o.option, o.path);  // still so after the run
  for (auto& o : outputs_) {
    if (o.tmp.empty()) continue;
    if (std::rename(o.tmp.c_str(), o.path.c_str()) != 0)
      fail(o.option, o.path, std::string("cannot replace the file: ") + std::strerror(errno));
    o.tmp.clear();
  }
}

}  // namespace vcpusim::tools
