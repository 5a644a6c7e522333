// Shared by the order, payment and event commands: money on the command
// line, request ids, the acting person, and one-line summaries.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "grpcpp/client_context.h"
#include "posd/v1/events.pb.h"
#include "posd/v1/money.pb.h"
#include "posd/v1/orders.pb.h"
#include "posd/v1/payments.pb.h"
#include "service/posctl/cli_context.h"

namespace posd::posctl {

// "12.34" in `currency` as Money; nullopt (after printing why) when it is not
// an amount of that currency.
std::optional<posd::v1::Money> ParseAmount(const std::string& text, const std::string& currency);
// "12.34 EUR".
std::string FormatMoney(const posd::v1::Money& money);
// A fresh idempotency key for a change made from the command line.
std::string NewRequestId();
// A call context (deadline from --timeout unless `streaming`) that names the
// person acting (the login name) for the audit log.
std::unique_ptr<grpc::ClientContext> NewChangeCall(const CliContext& context, bool streaming = false);

std::string Summary(const posd::v1::Order& order);
std::string Summary(const posd::v1::Payment& payment);
std::string Summary(const posd::v1::Refund& refund);
std::string Summary(const posd::v1::Event& event);

}  // namespace posd::posctl
