// The one method-to-role table of the API: who may call what.
//
// Every method of every posd.v1 service has exactly one entry, keyed by its
// full name ("posd.v1.PaymentService.RefundPayment"). A method without an
// entry is denied to everyone (fail closed); CheckMethodRoles() proves at
// start-up and in unit tests that the table and the published API agree.
// Audited operator actions also name their audit action here, so a refusal
// at the edge (role, malformed request) is recorded like one in the engine.
//
// The table is constant data; everything here is thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "service/api/caller_role.h"

namespace posd::api {

// A set of roles as bits (1 << Role).
using RoleSet = unsigned;

constexpr RoleSet RoleBit(Role role) { return 1u << static_cast<unsigned>(role); }
inline constexpr RoleSet kAnyRole = RoleBit(Role::kUi) | RoleBit(Role::kOperator) |
                                    RoleBit(Role::kFleet);
inline constexpr RoleSet kOperatorRoles = RoleBit(Role::kOperator) | RoleBit(Role::kFleet);

struct MethodRule {
  std::string_view method;  // full name, "posd.v1.OrderService.CreateOrder"
  RoleSet allowed = 0;
  // What the caller is doing, for a refusal's message ("refund a payment").
  std::string_view action;
  // Audit action of a refusal ("refund_payment"), empty when refusals of
  // this method are not audited.
  std::string_view audit_action;
  // Request field naming the subject of an audited action ("payment_id").
  std::string_view subject_field;
};

// The entry of `full_method`, or nullptr when it has none.
const MethodRule* FindMethodRule(std::string_view full_method);

// Every entry, in table order.
std::span<const MethodRule> AllMethodRules();

// The posd.v1 services the table covers (every service of the API).
std::span<const std::string_view> ApiServiceNames();

// OK when `role` may call `full_method`. PERMISSION_DENIED with reason
// ROLE_REQUIRED otherwise: an unknown caller (nullopt), a role the entry does
// not allow, or a method without an entry.
absl::Status AuthorizeCall(std::string_view full_method, std::optional<Role> role);

// OK when every method of every service of ApiServiceNames() has an entry and
// every entry names a method that exists; FAILED_PRECONDITION naming the
// first disagreement otherwise.
absl::Status CheckMethodRoles();

}  // namespace posd::api
