// Writers of a built Trace: Chrome Trace Event JSON (Perfetto, chrome://tracing) and VCD.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>

#include "sim/trace.hpp"

namespace vcpusim::sim {

namespace {

class Buffered {
 public:
  explicit Buffered(std::ostream& out) : out_(out) { buf_.reserve(1 << 20); }
  ~Buffered() { flush(); }
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }
  Buffered& operator<<(const char* s) {
    buf_ += s;
    maybe_flush();
    return *this;
  }
  Buffered& operator<<(const std::string& s) {
    buf_ += s;
    maybe_flush();
    return *this;
  }
  Buffered& operator<<(char c) {
    buf_ += c;
    return *this;
  }
  Buffered& num(std::int64_t v) {
    char tmp[24];
    const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, static_cast<std::size_t>(r.ptr - tmp));
    return *this;
  }
  // picoseconds as microseconds with an exact decimal fraction, trailing zeros trimmed
  Buffered& micros(Tick t) {
    char tmp[40];
    const long long whole = t / kMicrosecond;
    long long frac = t % kMicrosecond;
    int n = static_cast<int>(std::to_chars(tmp, tmp + 24, whole).ptr - tmp);
    if (frac != 0) {
      char f[8];
      for (int d = 5; d >= 0; --d, frac /= 10) f[d] = static_cast<char>('0' + frac % 10);
      int len = 6;
      while (len > 0 && f[len - 1] == '0') --len;
      tmp[n++] = '.';
      std::memcpy(tmp + n, f, static_cast<std::size_t>(len));
      n += len;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return *this;
  }
  void string(const std::string& s) {
    buf_ += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') {
        buf_ += '\\';
        buf_ += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char tmp[8];
        std::snprintf(tmp, sizeof tmp, "\\u%04x", c);
        buf_ += tmp;
      } else {
        buf_ += c;
      }
    }
    buf_ += '"';
  }

 private:
  void maybe_flush() {
    if (buf_.size() > (1 << 20)) flush();
  }
  std::ostream& out_;
  std::string buf_;
};

}  // namespace

void Trace::write_chrome_json(std::ostream& os) const {
  Buffered out(os);
  out << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"vcpusim\",\"title\":";
  out.string(info_.title);
  for (const auto& [key, value] : other_data_) {
    out << ",\"" << key << "\":";
    out.num(value);
  }
  out << ",\"end_ps\":";
  out.num(info_.end);
  out << "},\n\"traceEvents\":[";
  bool first = true;
  for (const TraceEvent& e : events_) {
    if (e.dropped) continue;
    out << (first ? "\n{" : ",\n{");
    first = false;
    out << "\"ph\":\"" << e.ph << "\",\"ts\":";
    out.micros(e.ts);
    out << ",\"pid\":";
    out.num(e.pid);
    out << ",\"tid\":";
    out.num(e.tid);
    out << ",\"name\":";
    out.string(e.name);
    if (e.cat[0]) out << ",\"cat\":\"" << e.cat << "\"";
    if (e.id >= 0) {
      if (e.ph == 'b' || e.ph == 'e') {
        out << ",\"id\":\"0x";
        char tmp[24];
        std::snprintf(tmp, sizeof tmp, "%llx", static_cast<unsigned long long>(e.id));
        out << tmp << "\"";
      } else {
        out << ",\"id\":";
        out.num(e.id);
      }
    }
    if (!e.top.empty()) out << "," << e.top;
    if (e.k1 || !e.args.empty()) {
      out << ",\"args\":{";
      bool any = false;
      if (e.k1) {
        out << "\"" << e.k1 << "\":";
        out.num(e.v1);
        any = true;
      }
      if (e.k2) {
        out << ",\"" << e.k2 << "\":";
        out.num(e.v2);
      }
      if (!e.args.empty()) out << (any ? "," : "") << e.args;
      out << "}";
    }
    out << "}";
  }
  out << "\n]}\n";
}

void Trace::write_vcd(std::ostream& os) const {
  Buffered out(os);
  auto ident = [](int i) {
    std::string s;
    do {
      s += static_cast<char>('!' + i % 94);
      i /= 94;
    } while (i > 0);
    return s;
  };
  auto value = [](const Signal& s, std::int64_t v) {
    if (s.width == 1) return std::string(v < 0 ? "z" : v ? "1" : "0");
    std::string bits;
    for (int b = s.width - 1; b >= 0; --b) bits += v < 0 ? 'z' : ((v >> b) & 1) ? '1' : '0';
    return "b" + bits + " ";
  };
  out << "$version vcpusim $end\n";
  // VCD has no escapes: a title word "$end" would close the comment, and scope and signal names
  // end at white space. Keep printable non-blank ASCII; '$' and the rest become '_'.
  auto vcd_word = [](const std::string& text, bool spaces) {
    std::string w;
    for (unsigned char c : text)
      w += (c > ' ' && c < 0x7f && c != '$') || (spaces && c == ' ') ? static_cast<char>(c) : '_';
    return w;
  };
  out << "$comment " << vcd_word(info_.title, true) << ":";
  for (std::size_t i = 0; i < vcd_notes_.size(); ++i) out << (i ? "; " : " ") << vcd_notes_[i];
  out << " $end\n";
  out << "$timescale 1ps $end\n";
  std::string scope;
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    const Signal& s = signals_[i];
    if (s.scope != scope) {
      if (!scope.empty()) out << "$upscope $end\n";
      out << "$scope module " << vcd_word(s.scope, false) << " $end\n";
      scope = s.scope;
    }
    out << "$var wire " << std::to_string(s.width) << " " << ident(static_cast<int>(i)) << " "
        << vcd_word(s.name, false)
        << (s.width > 1 ? " [" + std::to_string(s.width - 1) + ":0]" : std::string()) << " $end\n";
  }
  if (!scope.empty()) out << "$upscope $end\n";
  out << "$enddefinitions $end\n";
  // One value per signal and timestamp (the last one), and only real changes.
  std::vector<std::int64_t> shown(signals_.size(), -2);
  std::vector<std::int64_t> latest(signals_.size(), -2);
  std::vector<int> touched;
  bool in_dumpvars = false;
  bool first_block = true;
  for (std::size_t i = 0; i < changes_.size();) {
    const Tick t = changes_[i].t;
    touched.clear();
    for (; i < changes_.size() && changes_[i].t == t; ++i) {
      const auto s = static_cast<std::size_t>(changes_[i].signal);
      if (latest[s] == -2 ||
          std::find(touched.begin(), touched.end(), changes_[i].signal) == touched.end())
        touched.push_back(changes_[i].signal);
      latest[s] = changes_[i].value;
    }
    std::sort(touched.begin(), touched.end());
    bool header = false;
    for (int sig : touched) {
      const auto s = static_cast<std::size_t>(sig);
      if (shown[s] == latest[s]) continue;
      if (!header) {
        out << "#";
        out.num(t);
        out << "\n";
        if (first_block) {
          out << "$dumpvars\n";
          in_dumpvars = true;
        }
        header = true;
        first_block = false;
      }
      shown[s] = latest[s];
      out << value(signals_[s], latest[s]) << ident(sig) << "\n";
    }
    if (in_dumpvars) {
      out << "$end\n";
      in_dumpvars = false;
    }
  }
}

}  // namespace vcpusim::sim
