#include "tools/run/cc_cli.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "sim/error.hpp"
#include "tools/cli_args.hpp"

namespace vcpusim::tools {

namespace {
bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string folder(const std::string& p) {
  const std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash == 0 ? 1 : slash);
}

// Runs argv (no shell); the compiler's exit status, or -1 when it could not run.
int spawn(const std::vector<std::string>& argv) {
  std::vector<char*> c;
  for (const auto& a : argv) c.push_back(const_cast<char*>(a.c_str()));
  c.push_back(nullptr);
  std::cout.flush();
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::execvp(c[0], c.data());
    std::perror(c[0]);
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
}  // namespace

std::vector<std::string> plugin_cc_argv(const std::string& compiler,
                                        const std::string& include_dir,
                                        const std::vector<std::string>& extra,
                                        const std::vector<std::string>& sources,
                                        const std::string& out) {
  // -fexceptions: vcpusim unwinds a vCPU's stack through the plugin's frames at the end of a
  // run. -fPIC -shared: a shared object for dlopen.
  std::vector<std::string> argv = {compiler,      "-std=gnu11", "-O2",     "-fPIC",
                                   "-fexceptions", "-shared",   "-Wall",   "-I" + include_dir};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), sources.begin(), sources.end());
  argv.push_back("-o");
  argv.push_back(out);
  return argv;
}

std::vector<std::string> instrument_flags(const std::string& compiler) {
  const std::size_t slash = compiler.rfind('/');
  const std::string name = slash == std::string::npos ? compiler : compiler.substr(slash + 1);
  // Volatile accesses get entry points of their own (marked, as READ_ONCE is).
  std::vector<std::string> flags = {"-fsanitize=thread", "-g", "-c"};
  if (name.find("clang") != std::string::npos) {
    flags.insert(flags.end(), {"-mllvm", "-tsan-distinguish-volatile=1"});
  } else {
    flags.insert(flags.end(), {"--param", "tsan-distinguish-volatile=1"});
  }
  return flags;
}

std::string guest_include_dir() {
  char exe[PATH_MAX];
  if (::realpath("/proc/self/exe", exe)) {
    const std::string installed = folder(folder(exe)) + "/include";
    if (is_file(installed + "/vcpusim/guest.h")) return installed;
  }
  const std::string source = std::string(VCPUSIM_SOURCE_INCLUDE_DIR);
  if (is_file(source + "/vcpusim/guest.h")) return source;
  throw sim::ConfigError("vcpusim cc: <vcpusim/guest.h> is neither next to this binary (" +
                         std::string("../include") + ") nor in " + source +
                         "; allowed: an installed vcpusim or its build tree");
}

int cmd_cc(const std::vector<std::string>& args) {
  const std::string usage =
      "usage: vcpusim cc FILE.c... -o OUT.so [COMPILER FLAGS]...\n\n"
      "Builds a C guest-code plugin (docs/c-guest-code.md) with $CC (default cc): -std=gnu11 -O2\n"
      "-fPIC -fexceptions -shared -Wall -I<vcpusim's include folder>, then the flags given (e.g.\n"
      "-DNAME, -g), the sources and -o OUT.so. The compiler runs directly, never through a shell.\n"
      "OUT.so is written all-or-nothing. Exit 0 when the compiler succeeded, 2 when not.\n\n"
      "--instrument: instrumented mode (docs/c-guest-code.md \"Instrumented mode\"): every plain\n"
      "load and store of the plugin also becomes a guest access, for the data_race check. Each\n"
      "FILE.c is compiled with -fsanitize=thread -g (volatile accesses distinguished), then\n"
      "linked with -shared without -fsanitize=thread: vcpusim provides the entry points.\n";
  std::vector<std::string> sources, extra;
  std::string out;
  bool instrument = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return cli::kExitMet;
    }
    if (a == "--instrument") {
      instrument = true;
    } else if (a == "-o") {
      if (i + 1 == args.size()) throw cli::po::error("-o needs a file");
      out = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      extra.push_back(a);
    } else {
      sources.push_back(a);
    }
  }
  if (sources.empty()) throw cli::po::error("cc needs a FILE.c");
  if (out.empty()) throw cli::po::error("cc needs -o OUT.so");
  struct stat st {};
  if (::lstat(out.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw sim::ConfigError("-o " + out + ": is not a regular file; allowed: a new file or a "
                           "regular file to replace");
  // The compiler writes a temporary of our own beside OUT; it replaces OUT only on success.
  std::string tmp = folder(out) + "/.vcpusim-cc-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw sim::ConfigError("-o " + out + ": cannot create a file in its folder");
  ::close(fd);
  const char* cc_env = std::getenv("CC");
  const std::string cc = cc_env && *cc_env ? cc_env : "cc";
  int status = 0;
  std::vector<std::string> objects;  // instrumented mode: ours, beside OUT, removed at the end
  if (!instrument) {
    status = spawn(plugin_cc_argv(cc, guest_include_dir(), extra, sources, tmp));
  } else {
    std::vector<std::string> compile = extra;
    const std::vector<std::string> flags = instrument_flags(cc);
    compile.insert(compile.end(), flags.begin(), flags.end());
    for (const std::string& source : sources) {
      std::string object = folder(out) + "/.vcpusim-cc-XXXXXX.o";
      const int ofd = ::mkstemps(object.data(), 2);
      if (ofd < 0) {
        status = -1;
        break;
      }
      ::close(ofd);
      objects.push_back(object);
      std::vector<std::string> argv = plugin_cc_argv(cc, guest_include_dir(), compile, {source},
                                                     object);
      argv.erase(std::find(argv.begin(), argv.end(), "-shared"));
      if ((status = spawn(argv)) != 0) break;
    }
    if (status == 0) status = spawn(plugin_cc_argv(cc, guest_include_dir(), extra, objects, tmp));
  }
  for (const std::string& object : objects) ::unlink(object.c_str());
  if (status != 0 || ::rename(tmp.c_str(), out.c_str()) != 0) {
    ::unlink(tmp.c_str());
    std::cerr << "vcpusim cc: the compiler failed" << (status > 0 ? " (exit " +
                 std::to_string(status) + ")" : std::string()) << "; " << out
              << " not written\n";
    return cli::kExitUsage;
  }
  return cli::kExitMet;
}

}  // namespace vcpusim::tools
