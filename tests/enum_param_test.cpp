// A variant string is resolved once, at load, into the model's enum (sim::EnumParam::as): each
// enum follows its parameter's choices, checked here choice by choice.
#include <gtest/gtest.h>

#include "cpu/params.hpp"
#include "guest/smp_call_params.hpp"
#include "guest/timekeeping_params.hpp"
#include "sim/error.hpp"

using namespace vcpusim;

namespace {
template <class E>
void expect_choices(sim::EnumParam& p, std::vector<std::pair<const char*, E>> expected) {
  ASSERT_EQ(p.schema()["enum"].size(), expected.size()) << p.name();
  for (const auto& [name, value] : expected) {
    p.value = name;
    EXPECT_EQ(p.as<E>(), value) << p.name() << " = " << name;
  }
}
}  // namespace

TEST(EnumParam, ModelEnumsFollowTheChoices) {
  guest::TimekeepingParams tk;
  expect_choices<guest::TkVariant>(tk.variant, {{"legacy", guest::TkVariant::kLegacy},
                                                {"split-publish", guest::TkVariant::kSplitPublish},
                                                {"shadow", guest::TkVariant::kShadow},
                                                {"reanchor", guest::TkVariant::kReanchor}});
  expect_choices<guest::NmiVariant>(tk.nmi_variant,
                                    {{"naive", guest::NmiVariant::kNaive},
                                     {"owner-shadow", guest::NmiVariant::kOwnerShadow},
                                     {"owner-shadow-no-barrier", guest::NmiVariant::kNoBarrier},
                                     {"latch", guest::NmiVariant::kLatch}});
  expect_choices<guest::NtpDirection>(tk.ntp.direction,
                                      {{"none", guest::NtpDirection::kNone},
                                       {"down", guest::NtpDirection::kDown},
                                       {"up", guest::NtpDirection::kUp},
                                       {"alternating", guest::NtpDirection::kAlternating}});
  guest::SmpCallParams calls;
  expect_choices<guest::SmpCallVariant>(
      calls.variant, {{"irqs-off-allowed", guest::SmpCallVariant::kIrqsOffAllowed},
                      {"assert-irqs-enabled", guest::SmpCallVariant::kAssert},
                      {"poll-own-queue", guest::SmpCallVariant::kPollOwnQueue},
                      {"global-lock", guest::SmpCallVariant::kGlobalLock}});
  cpu::LoadParams load;
  expect_choices<cpu::LoadKind>(load.kind, {{"duty", cpu::LoadKind::kDuty},
                                            {"poisson", cpu::LoadKind::kPoisson},
                                            {"script", cpu::LoadKind::kScript}});
}

TEST(EnumParam, AValueOutsideTheChoicesIsAnError) {
  cpu::LoadParams load;
  load.kind.value = "bursty";
  EXPECT_THROW(load.kind.index(), sim::SimError);
}
