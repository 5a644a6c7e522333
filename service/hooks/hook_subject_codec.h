// The stored form of a HookSubject: the bytes the engine writes with a hook
// run and the outbox runner reads back, possibly after a restart and an
// upgrade of posd.
//
// The format is a private protobuf message (hook_subject.proto), so fields
// can be added compatibly; callers treat the bytes as opaque.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/hooks/hook_subject.h"

namespace posd::hooks {

std::string EncodeHookSubject(const HookSubject& subject);
// DATA_LOSS when the bytes are not an encoded subject or hold values posd
// refuses (an unknown currency, a malformed id or masked PAN, ...).
absl::StatusOr<HookSubject> DecodeHookSubject(std::string_view bytes);

}  // namespace posd::hooks
