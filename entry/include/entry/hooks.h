// Test hooks: behaviour selected by /chosen/pvmfw,test-hook at the boot
// sequence's named stages (boot::Stage). The PVMFW_TEST_HOOKS build switch
// acts in entry/hooks.cc (pvmfw-testhooks.bin implements the hooks; the
// shipped pvmfw.bin has a stage function that does nothing, and none of the
// hooks' code) and here: the shipped image's platform has no stage function
// at all (kStageFunction is null), so the boot sequence never stops for one,
// e.g. the instance entry is written in one request, not split around
// Stage::kInstanceWrite.
#pragma once

#include <expected>

#include "boot/boot.h"

namespace entry {

[[nodiscard]] std::expected<void, boot::Failure> at_stage(boot::Stage stage,
                                                          const boot::StageContext& context);

inline constexpr auto kStageFunction = PVMFW_TEST_HOOKS ? &at_stage : nullptr;

}  // namespace entry
