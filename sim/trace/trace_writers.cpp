#include "sim/trace/trace_writers.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace vcpusim::sim {

void TraceBuffer::flush() {
  if (buf_.empty()) return;
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  buf_.clear();
}

TraceBuffer& TraceBuffer::num(std::int64_t v) {
  char tmp[24];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, static_cast<std::size_t>(r.ptr - tmp));
  return *this;
}

TraceBuffer& TraceBuffer::micros(Tick t) {
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

void TraceBuffer::string(const std::string& s) {
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

// --- Chrome Trace Event JSON -------------------------------------------------------------------
void ChromeWriter::begin(const TraceInfo& info,
                         const std::vector<std::pair<std::string, std::int64_t>>& other_data) {
  out_ << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"vcpusim\",\"title\":";
  out_.string(info.title);
  for (const auto& [key, value] : other_data) {
    out_ << ",\"" << key << "\":";
    out_.num(value);
  }
  out_ << ",\"end_ps\":";
  out_.num(info.end);
  out_ << "},\n\"traceEvents\":[";
}

void ChromeWriter::event(const TraceEvent& e) {
  out_ << (first_ ? "\n{" : ",\n{");
  first_ = false;
  out_ << "\"ph\":\"" << e.ph << "\",\"ts\":";
  out_.micros(e.ts);
  out_ << ",\"pid\":";
  out_.num(e.pid);
  out_ << ",\"tid\":";
  out_.num(e.tid);
  out_ << ",\"name\":";
  out_.string(e.name);
  if (e.cat[0]) out_ << ",\"cat\":\"" << e.cat << "\"";
  if (e.id >= 0) {
    if (e.ph == 'b' || e.ph == 'e') {
      out_ << ",\"id\":\"0x";
      char tmp[24];
      std::snprintf(tmp, sizeof tmp, "%llx", static_cast<unsigned long long>(e.id));
      out_ << tmp << "\"";
    } else {
      out_ << ",\"id\":";
      out_.num(e.id);
    }
  }
  if (!e.top.empty()) out_ << "," << e.top;
  if (e.k1 || !e.args.empty()) {
    out_ << ",\"args\":{";
    bool any = false;
    if (e.k1) {
      out_ << "\"" << e.k1 << "\":";
      out_.num(e.v1);
      any = true;
    }
    if (e.k2) {
      out_ << ",\"" << e.k2 << "\":";
      out_.num(e.v2);
    }
    if (!e.args.empty()) out_ << (any ? "," : "") << e.args;
    out_ << "}";
  }
  out_ << "}";
  out_.maybe_flush();
}

void ChromeWriter::end() {
  out_ << "\n]}\n";
  out_.flush();
}

// --- VCD ---------------------------------------------------------------------------------------
namespace {

std::string ident(int i) {
  std::string s;
  do {
    s += static_cast<char>('!' + i % 94);
    i /= 94;
  } while (i > 0);
  return s;
}

std::string value(const TraceSignal& s, std::int64_t v) {
  if (s.width == 1) return std::string(v < 0 ? "z" : v ? "1" : "0");
  std::string bits;
  for (int b = s.width - 1; b >= 0; --b) bits += v < 0 ? 'z' : ((v >> b) & 1) ? '1' : '0';
  return "b" + bits + " ";
}

// VCD has no escapes: a title word "$end" would close the comment, and scope and signal names
// end at white space. Keep printable non-blank ASCII; '$' and the rest become '_'.
std::string vcd_word(const std::string& text, bool spaces) {
  std::string w;
  for (unsigned char c : text)
    w += (c > ' ' && c < 0x7f && c != '$') || (spaces && c == ' ') ? static_cast<char>(c) : '_';
  return w;
}

}  // namespace

void VcdWriter::begin(const std::string& title, const std::vector<std::string>& notes,
                      const std::vector<TraceSignal>& signals) {
  signals_ = signals;
  shown_.assign(signals_.size(), -2);
  latest_.assign(signals_.size(), -2);
  out_ << "$version vcpusim $end\n";
  out_ << "$comment " << vcd_word(title, true) << ":";
  for (std::size_t i = 0; i < notes.size(); ++i) out_ << (i ? "; " : " ") << notes[i];
  out_ << " $end\n";
  out_ << "$timescale 1ps $end\n";
  std::string scope;
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    const TraceSignal& s = signals_[i];
    if (s.scope != scope) {
      if (!scope.empty()) out_ << "$upscope $end\n";
      out_ << "$scope module " << vcd_word(s.scope, false) << " $end\n";
      scope = s.scope;
    }
    out_ << "$var wire " << std::to_string(s.width) << " " << ident(static_cast<int>(i)) << " "
         << vcd_word(s.name, false)
         << (s.width > 1 ? " [" + std::to_string(s.width - 1) + ":0]" : std::string()) << " $end\n";
  }
  if (!scope.empty()) out_ << "$upscope $end\n";
  out_ << "$enddefinitions $end\n";
}

void VcdWriter::change(Tick t, int signal, std::int64_t v) {
  if (t != block_) {
    close_block();
    block_ = t;
  }
  const auto s = static_cast<std::size_t>(signal);
  if (std::find(touched_.begin(), touched_.end(), signal) == touched_.end())
    touched_.push_back(signal);
  latest_[s] = v;
}

void VcdWriter::close_block() {
  if (touched_.empty()) return;
  std::sort(touched_.begin(), touched_.end());
  bool header = false;
  bool in_dumpvars = false;
  for (int sig : touched_) {
    const auto s = static_cast<std::size_t>(sig);
    if (shown_[s] == latest_[s]) continue;
    if (!header) {
      out_ << "#";
      out_.num(block_);
      out_ << "\n";
      if (first_block_) {
        out_ << "$dumpvars\n";
        in_dumpvars = true;
      }
      header = true;
      first_block_ = false;
    }
    shown_[s] = latest_[s];
    out_ << value(signals_[s], latest_[s]) << ident(sig) << "\n";
  }
  if (in_dumpvars) out_ << "$end\n";
  touched_.clear();
  out_.maybe_flush();
}

void VcdWriter::end() {
  close_block();
  out_.flush();
}

}  // namespace vcpusim::sim
