// Test hooks: behaviour selected by /chosen/pvmfw,test-hook at the boot
// sequence's named stages (boot::Stage). The one place the PVMFW_TEST_HOOKS
// build switch acts is entry/hooks.cc: pvmfw-testhooks.bin implements them,
// the shipped pvmfw.bin has a stage function that does nothing, and none of
// the hooks' code.
#pragma once

#include <expected>

#include "boot/boot.h"

namespace entry {

[[nodiscard]] std::expected<void, boot::Failure> at_stage(boot::Stage stage,
                                                          const boot::StageContext& context);

}  // namespace entry
