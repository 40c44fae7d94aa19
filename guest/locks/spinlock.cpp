#include "guest/locks/spinlock.hpp"

namespace vcpusim::guest {

cpu::Word& Spinlock::own_word(cpu::Machine& m, const std::string& field, std::uint64_t initial) {
  lines_.push_back(m.memory().new_line());
  cpu::Word& w = m.memory().word(name_ + "." + field, lines_.back(), initial);
  if (label_id_ < 0) {
    label_id_ = w.id;
    label_word_ = &w;
  }
  return w;
}

void Spinlock::adopt_line(const cpu::Word& line_word) {
  lines_.push_back(line_word.line);
  if (label_id_ < 0) {
    label_id_ = line_word.id;
    label_word_ = &line_word;
  }
}

cpu::Word& Spinlock::word_beside(cpu::Machine& m, const cpu::Word& on, const std::string& field,
                                 std::uint64_t initial) {
  return m.memory().word(name_ + "." + field, on.line, initial);
}

}  // namespace vcpusim::guest
