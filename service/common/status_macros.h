// Early-return helpers for absl::Status and absl::StatusOr.
//
// Debian 12's Abseil (20220623) ships neither ABSL_RETURN_IF_ERROR nor
// ABSL_ASSIGN_OR_RETURN, so posd defines its own pair.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define POSD_STATUS_CONCAT_INNER(a, b) a##b
#define POSD_STATUS_CONCAT(a, b) POSD_STATUS_CONCAT_INNER(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function
// when it is not OK.
#define POSD_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    if (::absl::Status posd_status_ = (expr);       \
        !posd_status_.ok()) {                       \
      return posd_status_;                          \
    }                                               \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when it is not
// OK, otherwise moves the value into `lhs` (which may be a declaration).
#define POSD_ASSIGN_OR_RETURN(lhs, rexpr) \
  POSD_ASSIGN_OR_RETURN_IMPL(POSD_STATUS_CONCAT(posd_statusor_, __LINE__), lhs, rexpr)

#define POSD_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) {                                  \
    return std::move(statusor).status();                 \
  }                                                      \
  lhs = *std::move(statusor)
