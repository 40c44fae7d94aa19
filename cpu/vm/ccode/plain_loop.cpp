#include "cpu/vm/ccode/plain_loop.hpp"

#include <algorithm>

namespace vcpusim::cpu {
namespace {

// The stack holds frames of vcpusim built with AddressSanitizer (their redzones are poisoned)
// beside the plugin's: read it uninstrumented, through a volatile pointer so that no memcmp or
// memcpy (which ASan intercepts) replaces the loops.
__attribute__((no_sanitize("address"))) bool same_words(const std::uint64_t* live,
                                                        const std::vector<std::uint64_t>& copy) {
  const volatile std::uint64_t* p = live;
  for (std::size_t i = 0; i < copy.size(); ++i)
    if (p[i] != copy[i]) return false;
  return true;
}

__attribute__((no_sanitize("address"))) void copy_words(const std::uint64_t* live, std::size_t n,
                                                        std::vector<std::uint64_t>& copy) {
  copy.resize(n);
  const volatile std::uint64_t* p = live;
  for (std::size_t i = 0; i < n; ++i) copy[i] = p[i];
}

}  // namespace

bool PlainLoop::at_fixed_point(const CodeState& state, std::uint64_t ops) {
  if (ops != ops_) reset();  // something else ran since the last load
  if (state.words() <= CodeState::kReturnAddress) {
    reset();
    return false;
  }
  if (++loads_ <= kWarmup) return false;
  if (!sampled_) {
    take(state);
    return false;
  }
  ++since_;
  if (state.pc() != sample_[CodeState::kReturnAddress] || since_ < gap_) return false;
  if (state.frame == sample_frame_ && state.words() == sample_.size() &&
      same_words(state.frame, sample_) && !Memory::changed(reads_))
    return true;
  take(state);
  gap_ = std::min(gap_ * 2, kMaxGap);
  return false;
}

void PlainLoop::take(const CodeState& state) {
  copy_words(state.frame, state.words(), sample_);
  sample_frame_ = state.frame;
  sampled_ = true;
  since_ = 0;
  reads_.entries.clear();
}

void PlainLoop::loaded(Word& line, std::uint64_t version) {
  if (sampled_) reads_.add(line, version);
}

void PlainLoop::reset() {
  loads_ = 0;
  since_ = 0;
  gap_ = 1;
  sampled_ = false;
  reads_.entries.clear();
}

WatchSet PlainLoop::take_reads() {
  WatchSet out;
  std::swap(out, reads_);
  reset();
  return out;
}

}  // namespace vcpusim::cpu
