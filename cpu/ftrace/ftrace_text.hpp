// The text form of ftrace (the `trace` and `trace_pipe` files of tracefs), both ways: the event
// line's context columns and the sched_switch fields, as kernel/trace/trace_output.c
// (trace_print_context, Linux 6.x) and include/trace/events/sched.h (sched_switch's TP_printk)
// print them. docs/host-trace.md describes the grammar and what each side keeps of it.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>

#include "sim/time.hpp"

namespace vcpusim::cpu::ftrace {

// A timestamp as printed: whole seconds and the fraction in picoseconds (the kernel prints
// microseconds; 1 to 12 decimals are read). Kept apart so a host up for years still parses.
struct Stamp {
  std::uint64_t secs = 0;
  std::int64_t ps = 0;  // 0 .. 10^12 - 1
};

// One event line: "COMM-PID [CPU] FLAGS SECS.USECS: EVENT: FIELDS", with an optional "(TGID)"
// after the PID and the FLAGS column optional (the irq-info option).
struct Line {
  std::string comm;  // the task current when the event was recorded ("<idle>" for pid 0)
  std::int64_t pid = 0;
  int cpu = 0;
  Stamp time;
  std::string event;
  std::string fields;
};

// The fields of sched_switch: "prev_comm=A prev_pid=1 prev_prio=120 prev_state=S ==>
// next_comm=B next_pid=2 next_prio=120", and any fields a newer kernel appends after next_prio.
struct Switch {
  std::string prev_comm;
  std::int64_t prev_pid = 0;
  std::int64_t prev_prio = 0;
  std::string prev_state;
  std::string next_comm;
  std::int64_t next_pid = 0;
  std::int64_t next_prio = 0;
};

// Each parser returns "" on success, else what was expected (for a file:line message).
std::string parse_line(const std::string& text, Line& out);
std::string parse_switch(const std::string& fields, Switch& out);
// An event line as `perf script` prints a tracepoint: "COMM PID [CPU] SECS.FRACTION:
// SUBSYSTEM:EVENT: FIELDS" (builtin-script.c's default columns for tracepoints, the comm right-
// aligned in 16, "PID/TID" when both are shown). `event` is the name without its subsystem.
std::string parse_perf_line(const std::string& text, Line& out);
// sched_switch as `trace-cmd report` prints it (libtraceevent's sched_switch plugin):
// "PREV_COMM:PREV_PID [PRIO] STATE ==> NEXT_COMM:NEXT_PID [PRIO]".
std::string parse_report_switch(const std::string& fields, Switch& out);
// Either form of sched_switch's fields: the kernel's TP_printk or libtraceevent's plugin (which
// `trace-cmd report` and a perf built with the plugins print).
std::string parse_any_switch(const std::string& fields, Switch& out);
// The lines `trace-cmd report` prints before the events: "cpus=N", "version = N",
// "CPU N is empty".
bool report_header(const std::string& line);

// A thread name as one comm token: sim::printable's escapes for control characters and bidi
// overrides, and a space as \x20, so the name can neither end the line nor split a field.
std::string comm(const std::string& name);

// "%5lu.%06lu" of t: whole seconds and microseconds, the picoseconds below dropped (truncated,
// as the kernel's ns2usecs does with nanoseconds); with `ns`, "%5lu.%09lu" (nanoseconds, as
// `trace-cmd report -t` and `perf script --ns` print them).
std::string format_time(sim::Tick t, bool ns = false);

// The context columns of an event line, up to and including "EVENT: ".
void write_context(std::ostream& out, const std::string& comm, std::int64_t pid, int cpu,
                   const char* flags, sim::Tick t, const char* event, bool ns = false);

// sched_switch's and sched_wakeup's fields, ending the line (TP_printk of sched.h).
void write_switch(std::ostream& out, const Switch& s);
void write_wakeup(std::ostream& out, const std::string& comm, std::int64_t pid, std::int64_t prio,
                  int target_cpu);

// The fields of irq_handler_entry ("irq=N name=NAME"), irq_handler_exit ("irq=N ret=handled")
// and softirq_entry / softirq_exit ("vec=N [action=NAME]"), ending the line (TP_printk of
// include/trace/events/irq.h).
void write_irq_entry(std::ostream& out, int irq, const std::string& name);
void write_irq_exit(std::ostream& out, int irq, bool handled);
void write_softirq(std::ostream& out, int vec);

}  // namespace vcpusim::cpu::ftrace
