#include "cpu/ftrace/ftrace_text.hpp"

#include <cstdio>

#include "sim/config/config.hpp"

namespace vcpusim::cpu::ftrace {
namespace {

constexpr const char* kLineShape = "COMM-PID [CPU] FLAGS SECONDS.MICROSECONDS: EVENT: FIELDS";
constexpr std::size_t kMaxDigits = 18;  // below INT64_MAX

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// Digits at `pos` (advanced past them) as a number; false when there are none or too many.
bool number(const std::string& s, std::size_t& pos, std::int64_t& out) {
  const std::size_t start = pos;
  std::int64_t v = 0;
  // Count every digit but accumulate only the first kMaxDigits, so a long run cannot overflow.
  for (; pos < s.size() && digit(s[pos]); ++pos)
    if (pos - start < kMaxDigits) v = v * 10 + (s[pos] - '0');
  if (pos == start || pos - start > kMaxDigits) return false;
  out = v;
  return true;
}

bool signed_number(const std::string& s, std::size_t& pos, std::int64_t& out) {
  const bool negative = pos < s.size() && s[pos] == '-';
  if (negative) ++pos;
  if (!number(s, pos, out)) return false;
  if (negative) out = -out;
  return true;
}

// "SECS.FRACTION" (1 to 12 decimals) at `pos`, advanced past it.
bool stamp(const std::string& s, std::size_t& pos, Stamp& out) {
  std::int64_t secs = 0;
  if (!number(s, pos, secs) || pos >= s.size() || s[pos] != '.') return false;
  ++pos;
  const std::size_t start = pos;
  std::int64_t ps = 0;
  while (pos < s.size() && digit(s[pos]) && pos - start < 12) ps = ps * 10 + (s[pos++] - '0');
  if (pos == start || (pos < s.size() && digit(s[pos]))) return false;
  for (std::size_t n = pos - start; n < 12; ++n) ps *= 10;
  out.secs = static_cast<std::uint64_t>(secs);
  out.ps = ps;
  return true;
}

bool literal(const std::string& s, std::size_t& pos, const char* text) {
  const std::string t(text);
  if (s.compare(pos, t.size(), t) != 0) return false;
  pos += t.size();
  return true;
}

void skip_spaces(const std::string& s, std::size_t& pos) {
  while (pos < s.size() && s[pos] == ' ') ++pos;
}

// The text before `end` ends in "-PID" or "-PID (TGID)" (spaces allowed where the kernel pads):
// sets the comm (leading padding removed) and the pid.
bool task_pid(const std::string& s, std::size_t end, std::string& comm, std::int64_t& pid) {
  std::size_t e = end;
  while (e > 0 && s[e - 1] == ' ') --e;
  if (e > 0 && s[e - 1] == ')') {  // the record-tgid option: "(  123)" or "(-------)"
    std::size_t open = e - 1;
    while (open > 0 && s[open - 1] != '(') --open;
    if (open == 0) return false;
    for (std::size_t i = open; i < e - 1; ++i)
      if (s[i] != ' ' && s[i] != '-' && !digit(s[i])) return false;
    e = open - 1;
    while (e > 0 && s[e - 1] == ' ') --e;
  }
  std::size_t d = e;
  while (d > 0 && digit(s[d - 1])) --d;
  if (d == e || d == 0 || s[d - 1] != '-' || e - d > kMaxDigits) return false;
  std::size_t p = d;
  if (!number(s, p, pid)) return false;
  std::size_t b = 0;
  while (b < d - 1 && s[b] == ' ') ++b;
  comm = s.substr(b, d - 1 - b);
  return !comm.empty();
}

}  // namespace

std::string parse_line(const std::string& s, Line& out) {
  // The CPU column: the first "[DIGITS] " after a "COMM-PID"; a comm may hold '[' or '-'.
  std::size_t open = s.find('[');
  for (; open != std::string::npos; open = s.find('[', open + 1)) {
    std::size_t p = open + 1;
    std::int64_t cpu = 0;
    if (!number(s, p, cpu) || p >= s.size() || s[p] != ']' || cpu > 65535) continue;
    if (!task_pid(s, open, out.comm, out.pid)) continue;
    out.cpu = static_cast<int>(cpu);
    std::size_t pos = p + 1;
    skip_spaces(s, pos);
    // FLAGS (irq-info) is optional: a token that is not a timestamp.
    std::size_t t = pos;
    if (!stamp(s, t, out.time) || t >= s.size() || s[t] != ':') {
      while (pos < s.size() && s[pos] != ' ') ++pos;
      skip_spaces(s, pos);
      t = pos;
      if (!stamp(s, t, out.time) || t >= s.size() || s[t] != ':')
        return std::string("a timestamp SECONDS.MICROSECONDS followed by ':' after the CPU ") +
               "and flags columns (" + kLineShape + ")";
    }
    pos = t + 1;
    if (!literal(s, pos, " ")) return std::string("' EVENT:' after the timestamp (") + kLineShape + ")";
    const std::size_t name = pos;
    while (pos < s.size() && s[pos] != ':' && s[pos] != ' ') ++pos;
    if (pos == name || pos >= s.size() || s[pos] != ':')
      return std::string("an event name followed by ':' after the timestamp (") + kLineShape + ")";
    out.event = s.substr(name, pos - name);
    ++pos;
    skip_spaces(s, pos);
    out.fields = s.substr(pos);
    return "";
  }
  return std::string("an event line ") + kLineShape + " (no 'COMM-PID [CPU]' columns found)";
}

std::string parse_perf_line(const std::string& s, Line& out) {
  constexpr const char* kPerfShape = "COMM PID [CPU] SECONDS.FRACTION: SUBSYSTEM:EVENT: FIELDS";
  // The CPU column: the first "[DIGITS] " after "COMM PID" (or "COMM PID/TID"); a comm may hold
  // spaces and '['.
  for (std::size_t open = s.find('['); open != std::string::npos; open = s.find('[', open + 1)) {
    std::size_t p = open + 1;
    std::int64_t cpu = 0;
    if (!number(s, p, cpu) || p >= s.size() || s[p] != ']' || cpu > 65535) continue;
    std::size_t e = open;
    while (e > 0 && s[e - 1] == ' ') --e;
    std::size_t d = e;
    while (d > 0 && digit(s[d - 1])) --d;
    if (d == e || e - d > kMaxDigits) continue;
    std::size_t tid_start = d;
    if (d > 0 && s[d - 1] == '/') {  // "PID/TID": the thread is the tid
      std::size_t q = d - 1;
      while (q > 0 && digit(s[q - 1])) --q;
      if (q == d - 1) continue;
      d = q;
    }
    if (d == 0 || s[d - 1] != ' ') continue;
    std::size_t q = tid_start;
    if (!number(s, q, out.pid)) continue;
    std::size_t b = 0;
    while (b < d && s[b] == ' ') ++b;
    std::size_t ce = d;
    while (ce > b && s[ce - 1] == ' ') --ce;
    if (ce == b) continue;
    out.comm = s.substr(b, ce - b);
    out.cpu = static_cast<int>(cpu);
    std::size_t pos = p + 1;
    skip_spaces(s, pos);
    if (!stamp(s, pos, out.time) || pos >= s.size() || s[pos] != ':')
      return std::string("a timestamp SECONDS.FRACTION followed by ':' after the CPU column (") +
             kPerfShape + ")";
    ++pos;
    skip_spaces(s, pos);
    const std::size_t name = pos;
    while (pos < s.size() && s[pos] != ' ') ++pos;
    if (pos - name < 2 || s[pos - 1] != ':')
      return std::string("an event name followed by ':' after the timestamp (") + kPerfShape + ")";
    const std::string event = s.substr(name, pos - 1 - name);
    const std::size_t colon = event.rfind(':');
    out.event = colon == std::string::npos ? event : event.substr(colon + 1);
    if (out.event.empty())
      return std::string("an event name followed by ':' after the timestamp (") + kPerfShape + ")";
    skip_spaces(s, pos);
    out.fields = s.substr(pos);
    return "";
  }
  return std::string("an event line ") + kPerfShape + " (no 'COMM PID [CPU]' columns found)";
}

std::string parse_switch(const std::string& f, Switch& out) {
  const std::string shape =
      "sched_switch fields prev_comm=COMM prev_pid=N prev_prio=N prev_state=S ==> "
      "next_comm=COMM next_pid=N next_prio=N";
  std::size_t pos = 0;
  if (!literal(f, pos, "prev_comm=")) return shape;
  const std::size_t prev_pid = f.find(" prev_pid=", pos);
  if (prev_pid == std::string::npos) return shape;
  out.prev_comm = f.substr(pos, prev_pid - pos);
  pos = prev_pid + 10;
  if (!signed_number(f, pos, out.prev_pid) || !literal(f, pos, " prev_prio=") ||
      !signed_number(f, pos, out.prev_prio) || !literal(f, pos, " prev_state="))
    return shape;
  const std::size_t arrow = f.find(" ==> next_comm=", pos);
  if (arrow == std::string::npos || arrow == pos) return shape;
  out.prev_state = f.substr(pos, arrow - pos);
  for (char c : out.prev_state)
    if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && c != '+' && c != '|') return shape;
  pos = arrow + 15;
  const std::size_t next_pid = f.find(" next_pid=", pos);
  if (next_pid == std::string::npos) return shape;
  out.next_comm = f.substr(pos, next_pid - pos);
  pos = next_pid + 10;
  if (!signed_number(f, pos, out.next_pid) || !literal(f, pos, " next_prio=") ||
      !signed_number(f, pos, out.next_prio))
    return shape;
  if (pos < f.size() && f[pos] != ' ') return shape;  // a newer kernel's extra fields follow
  return "";
}

namespace {

// "COMM:PID [PRIO]" ending at `end` (the comm may hold ':' and spaces): false when malformed.
bool report_task(const std::string& f, std::size_t begin, std::size_t end, std::string& comm,
                 std::int64_t& pid, std::int64_t& prio) {
  if (end <= begin || f[end - 1] != ']') return false;
  const std::size_t open = f.rfind(" [", end - 1);
  if (open == std::string::npos || open < begin) return false;
  std::size_t p = open + 2;
  if (!signed_number(f, p, prio) || p != end - 1) return false;
  const std::size_t colon = f.rfind(':', open);
  if (colon == std::string::npos || colon <= begin) return false;
  p = colon + 1;
  if (!signed_number(f, p, pid) || p != open) return false;
  comm = f.substr(begin, colon - begin);
  return true;
}

}  // namespace

std::string parse_report_switch(const std::string& f, Switch& out) {
  const std::string shape =
      "trace-cmd report's sched_switch fields PREV_COMM:PID [PRIO] STATE ==> NEXT_COMM:PID [PRIO]";
  const std::size_t arrow = f.find(" ==> ");
  if (arrow == std::string::npos) return shape;
  const std::size_t state = f.rfind(' ', arrow - 1);
  if (state == std::string::npos || state + 1 >= arrow) return shape;
  out.prev_state = f.substr(state + 1, arrow - state - 1);
  for (char c : out.prev_state)
    if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && c != '+' && c != '|') return shape;
  std::size_t end = f.size();
  while (end > arrow && f[end - 1] == ' ') --end;
  if (!report_task(f, 0, state, out.prev_comm, out.prev_pid, out.prev_prio) ||
      !report_task(f, arrow + 5, end, out.next_comm, out.next_pid, out.next_prio))
    return shape;
  return "";
}

std::string parse_any_switch(const std::string& fields, Switch& out) {
  if (parse_switch(fields, out).empty() || parse_report_switch(fields, out).empty()) return "";
  return "sched_switch fields in the kernel's form (prev_comm=COMM prev_pid=N prev_prio=N "
         "prev_state=S ==> next_comm=COMM next_pid=N next_prio=N) or libtraceevent's "
         "(PREV_COMM:PID [PRIO] STATE ==> NEXT_COMM:PID [PRIO])";
}

bool report_header(const std::string& line) {
  std::size_t p = 0;
  std::int64_t n = 0;
  if (literal(line, p, "cpus=") || literal(line, p, "version = "))
    return number(line, p, n) && p == line.size();
  p = 0;
  return literal(line, p, "CPU ") && number(line, p, n) && literal(line, p, " is empty") &&
         p == line.size();
}

std::string comm(const std::string& name) {
  std::string out;
  for (char c : sim::printable(name)) {
    if (c == ' ')
      out += "\\x20";
    else
      out += c;
  }
  return out;
}

std::string format_time(sim::Tick t, bool ns) {
  char buf[48];
  if (ns) {
    const sim::Tick n = t / sim::kNanosecond;
    std::snprintf(buf, sizeof buf, "%5lld.%09lld", static_cast<long long>(n / 1000000000),
                  static_cast<long long>(n % 1000000000));
    return buf;
  }
  const sim::Tick us = t / sim::kMicrosecond;
  std::snprintf(buf, sizeof buf, "%5lld.%06lld", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000));
  return buf;
}

void write_context(std::ostream& out, const std::string& comm, std::int64_t pid, int cpu,
                   const char* flags, sim::Tick t, const char* event, bool ns) {
  // "%16s-%-7d [%03d] FLAGS TIME: EVENT: " (trace_print_context; a longer comm is not cut).
  if (comm.size() < 16) out << std::string(16 - comm.size(), ' ');
  const std::string p = std::to_string(pid);
  char cpu_text[16];
  std::snprintf(cpu_text, sizeof cpu_text, "%03d", cpu);
  out << comm << '-' << p << std::string(p.size() < 7 ? 7 - p.size() : 0, ' ') << " [" << cpu_text
      << "] " << flags << ' ' << format_time(t, ns) << ": " << event << ": ";
}

void write_switch(std::ostream& out, const Switch& s) {
  out << "prev_comm=" << s.prev_comm << " prev_pid=" << s.prev_pid << " prev_prio=" << s.prev_prio
      << " prev_state=" << s.prev_state << " ==> next_comm=" << s.next_comm
      << " next_pid=" << s.next_pid << " next_prio=" << s.next_prio << '\n';
}

void write_wakeup(std::ostream& out, const std::string& comm, std::int64_t pid, std::int64_t prio,
                  int target_cpu) {
  char target[16];
  std::snprintf(target, sizeof target, "%03d", target_cpu);
  out << "comm=" << comm << " pid=" << pid << " prio=" << prio << " target_cpu=" << target
      << '\n';
}

void write_irq_entry(std::ostream& out, int irq, const std::string& name) {
  out << "irq=" << irq << " name=" << name << '\n';
}

void write_irq_exit(std::ostream& out, int irq, bool handled) {
  out << "irq=" << irq << " ret=" << (handled ? "handled" : "unhandled") << '\n';
}

void write_softirq(std::ostream& out, int vec) {
  // softirq_to_name of kernel/softirq.c, in the order of include/linux/interrupt.h's vectors.
  static const char* const kNames[] = {"HI",       "TIMER", "NET_TX",  "NET_RX", "BLOCK",
                                       "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"};
  out << "vec=" << vec << " [action="
      << (vec >= 0 && vec < 10 ? kNames[vec] : "UNKNOWN") << "]\n";
}

}  // namespace vcpusim::cpu::ftrace
