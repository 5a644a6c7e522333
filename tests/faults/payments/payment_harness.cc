#include "tests/faults/payments/payment_harness.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "service/channel/result_ledger.h"
#include "tests/support/termsim.h"

namespace posd::testing {
namespace {

using namespace std::chrono_literals;
using posd::v1::Payment;
using posd::v1::PaymentStatus;

void SetDeadline(grpc::ClientContext& context, std::chrono::milliseconds deadline) {
  context.set_deadline(std::chrono::system_clock::now() + deadline);
}

std::string Name(PaymentStatus status) {
  std::string name = posd::v1::PaymentStatus_Name(status);
  constexpr std::string_view kPrefix = "PAYMENT_STATUS_";
  if (name.rfind(kPrefix, 0) == 0) name.erase(0, kPrefix.size());
  return name;
}

}  // namespace

// ---------------------------------------------------------------------------
// Terminal

Terminal::Terminal(std::string device_id, const std::filesystem::path& dir)
    : device_id_(std::move(device_id)),
      dir_(dir / device_id_),
      link_(dir_ / "line.pty"),
      ledger_(dir_ / "ledger"),
      control_(dir_ / "control.sock") {
  std::filesystem::create_directories(dir_);
}

Terminal::~Terminal() { Stop(); }

bool Terminal::Start(int step_ms, int slow_ms, std::string* error) {
  std::filesystem::remove(control_);
  const auto logs = dir_ / ("run" + std::to_string(++runs_));
  std::filesystem::create_directories(logs);
  process_.emplace(Subprocess::Start(
      {POSD_TERMSIM_BINARY, "--pty", "--link", link_.string(), "--ledger", ledger_.string(),
       "--control", control_.string(), "--device-id", "sim-" + device_id_, "--step-ms",
       std::to_string(step_ms), "--slow-ms", std::to_string(slow_ms)},
      logs));
  const bool up = WaitUntil(
      [&] { return !process_->Running() || Control("status").rfind("OK", 0) == 0; }, 45s);
  if (!up || !process_->Running()) {
    if (error != nullptr) *error = "posd-termsim did not start: " + Tail(process_->Stderr());
    return false;
  }
  return true;
}

void Terminal::Stop() {
  if (process_ && process_->Running()) {
    process_->Signal(SIGTERM);
    if (!process_->WaitForExit(10s).has_value()) process_->Signal(SIGKILL);
    process_->WaitForExit(10s);
  }
}

std::string Terminal::Control(const std::string& line) const {
  return TermsimControl(control_, line);
}

absl::StatusOr<std::vector<channel::ledger::LedgerTransaction>> Terminal::Transactions() const {
  if (!std::filesystem::exists(ledger_)) {
    return std::vector<channel::ledger::LedgerTransaction>{};
  }
  return channel::ResultLedger::ReadTransactions(ledger_);
}

uintmax_t Terminal::LedgerSize() const {
  std::error_code ignored;
  const uintmax_t size = std::filesystem::file_size(ledger_, ignored);
  return ignored ? 0 : size;
}

std::string DevicesYaml(const std::vector<const Terminal*>& terminals) {
  std::string yaml = "devices:\n";
  for (const Terminal* terminal : terminals) {
    yaml += "  - id: " + terminal->device_id() + "\n    serial:\n      port: " +
            terminal->link().string() + "\n";
  }
  return yaml;
}

// ---------------------------------------------------------------------------
// Client

Client::Client(const std::string& address)
    : channel_(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
      payments_(posd::v1::PaymentService::NewStub(channel_)),
      devices_(posd::v1::DeviceService::NewStub(channel_)),
      events_(posd::v1::EventService::NewStub(channel_)),
      orders_(posd::v1::OrderService::NewStub(channel_)) {}

grpc::Status Client::CreatePayment(const posd::v1::CreatePaymentRequest& request,
                                   Payment* payment, std::chrono::milliseconds deadline) {
  grpc::ClientContext context;
  SetDeadline(context, deadline);
  return payments_->CreatePayment(&context, request, payment);
}

grpc::Status Client::GetPayment(const std::string& id, Payment* payment) {
  grpc::ClientContext context;
  SetDeadline(context, 10s);
  posd::v1::GetPaymentRequest request;
  request.set_payment_id(id);
  return payments_->GetPayment(&context, request, payment);
}

grpc::Status Client::RefundPayment(const posd::v1::RefundPaymentRequest& request,
                                   posd::v1::Refund* refund) {
  grpc::ClientContext context;
  SetDeadline(context, 10s);
  return payments_->RefundPayment(&context, request, refund);
}

grpc::Status Client::CancelPayment(const posd::v1::CancelPaymentRequest& request,
                                   Payment* payment) {
  grpc::ClientContext context;
  SetDeadline(context, 10s);
  return payments_->CancelPayment(&context, request, payment);
}

grpc::Status Client::CreateOrder(const std::string& request_id, posd::v1::Order* order) {
  grpc::ClientContext context;
  SetDeadline(context, 10s);
  posd::v1::CreateOrderRequest request;
  request.set_request_id(request_id);
  request.mutable_order()->set_currency_code("EUR");
  request.mutable_order()->set_note(std::string(512, 'n'));
  auto* line = request.mutable_order()->add_lines();
  line->set_sku("coffee");
  line->set_name("Coffee");
  line->set_quantity(2);
  line->mutable_unit_price()->set_amount_minor(350);
  line->mutable_unit_price()->set_currency_code("EUR");
  return orders_->CreateOrder(&context, request, order);
}

grpc::Status Client::GetDevice(const std::string& id, posd::v1::Device* device) {
  grpc::ClientContext context;
  SetDeadline(context, 10s);
  posd::v1::GetDeviceRequest request;
  request.set_device_id(id);
  return devices_->GetDevice(&context, request, device);
}

namespace {

absl::StatusOr<std::vector<Payment>> ListPages(posd::v1::PaymentService::Stub& stub,
                                               const std::vector<PaymentStatus>& statuses) {
  std::vector<Payment> all;
  std::string token;
  for (int page = 0; page < 1000; ++page) {
    grpc::ClientContext context;
    SetDeadline(context, 10s);
    posd::v1::ListPaymentsRequest request;
    request.set_page_size(500);
    request.set_page_token(token);
    for (PaymentStatus status : statuses) request.add_statuses(status);
    posd::v1::ListPaymentsResponse response;
    const grpc::Status status = stub.ListPayments(&context, request, &response);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          "ListPayments: " + status.error_message());
    }
    for (auto& payment : *response.mutable_payments()) all.push_back(std::move(payment));
    token = response.next_page_token();
    if (token.empty()) return all;
  }
  return absl::InternalError("ListPayments: more than 1000 pages");
}

}  // namespace

absl::StatusOr<std::vector<Payment>> Client::ListAllPayments() { return ListPages(*payments_, {}); }

absl::StatusOr<std::vector<Payment>> Client::ListUnfinished() {
  return ListPages(*payments_,
                   {posd::v1::PAYMENT_STATUS_CREATED, posd::v1::PAYMENT_STATUS_DISPATCHED,
                    posd::v1::PAYMENT_STATUS_AUTHORIZING, posd::v1::PAYMENT_STATUS_IN_DOUBT});
}

absl::StatusOr<std::vector<posd::v1::Event>> Client::ListAllEvents() {
  std::vector<posd::v1::Event> all;
  std::string token;
  for (int page = 0; page < 10000; ++page) {
    grpc::ClientContext context;
    SetDeadline(context, 10s);
    posd::v1::ListEventsRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    posd::v1::ListEventsResponse response;
    const grpc::Status status = events_->ListEvents(&context, request, &response);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          "ListEvents: " + status.error_message());
    }
    for (auto& event : *response.mutable_events()) all.push_back(std::move(event));
    token = response.next_page_token();
    if (token.empty()) return all;
  }
  return absl::InternalError("ListEvents: more than 10000 pages");
}

bool Client::WaitAllFinal(std::chrono::milliseconds timeout, std::string* still_open) {
  // Polled gently: posd (under sanitizers, on a small machine) has the
  // terminals to serve meanwhile. The filtered list first, the whole list
  // (for refunds) once no payment is open.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (true) {
    last.clear();
    auto open = ListUnfinished();
    if (!open.ok()) {
      last = std::string(open.status().message());
    } else {
      for (const Payment& payment : *open) {
        last += payment.id() + " " + Name(payment.status()) + " on " + payment.device_id() +
                " (" + payment.failure_reason() + "); ";
      }
    }
    if (last.empty()) {
      auto all = ListAllPayments();
      if (!all.ok()) {
        last = std::string(all.status().message());
      } else {
        for (const Payment& payment : *all) {
          if (IsSettled(payment)) continue;
          last += payment.id() + " " + Name(payment.status());
          for (const auto& refund : payment.refunds()) {
            last += " refund " + refund.id() + " " +
                    posd::v1::RefundStatus_Name(refund.status()) + " (" +
                    refund.failure_reason() + ")";
          }
          last += "; ";
        }
      }
    }
    if (last.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(25ms);
  }
  if (still_open != nullptr) *still_open = last;
  return last.empty();
}

bool Client::WaitDeviceReady(const std::string& id, std::chrono::milliseconds timeout) {
  return WaitUntil(
      [&] {
        posd::v1::Device device;
        return GetDevice(id, &device).ok() && device.state() == posd::v1::DEVICE_STATE_READY;
      },
      timeout);
}

// ---------------------------------------------------------------------------
// Agreement

bool IsFinal(PaymentStatus status) {
  switch (status) {
    case posd::v1::PAYMENT_STATUS_APPROVED:
    case posd::v1::PAYMENT_STATUS_DECLINED:
    case posd::v1::PAYMENT_STATUS_CANCELED:
    case posd::v1::PAYMENT_STATUS_FAILED:
    case posd::v1::PAYMENT_STATUS_PARTIALLY_REFUNDED:
    case posd::v1::PAYMENT_STATUS_REFUNDED:
      return true;
    default:
      return false;
  }
}

bool IsFinal(posd::v1::RefundStatus status) {
  return status == posd::v1::REFUND_STATUS_SUCCEEDED ||
         status == posd::v1::REFUND_STATUS_DECLINED || status == posd::v1::REFUND_STATUS_FAILED;
}

bool IsSettled(const Payment& payment) {
  if (!IsFinal(payment.status())) return false;
  for (const auto& refund : payment.refunds()) {
    if (!IsFinal(refund.status())) return false;
  }
  return true;
}

std::vector<std::string> CompareWithLedgers(const std::vector<Payment>& payments,
                                            const std::vector<const Terminal*>& terminals) {
  std::vector<std::string> problems;
  struct Seen {
    std::string device_id;
    channel::ledger::LedgerTransaction transaction;
  };
  std::map<std::string, Seen> on_ledgers;
  for (const Terminal* terminal : terminals) {
    auto transactions = terminal->Transactions();
    if (!transactions.ok()) {
      problems.push_back("ledger of " + terminal->device_id() + ": " +
                         std::string(transactions.status().message()));
      continue;
    }
    for (const auto& t : *transactions) {
      const std::string& id = t.request().transaction_id();
      auto [it, inserted] = on_ledgers.emplace(id, Seen{terminal->device_id(), t});
      if (!inserted) {
        problems.push_back(id + " is on the ledgers twice (" + it->second.device_id + " and " +
                           terminal->device_id() + "): charged twice?");
      }
    }
  }
  std::map<std::string, const Payment*> by_id;
  std::map<std::string, int> request_ids;
  for (const Payment& payment : payments) {
    by_id[payment.id()] = &payment;
    if (!payment.request_id().empty() && ++request_ids[payment.request_id()] == 2) {
      problems.push_back("request_id " + payment.request_id() + " made two payments");
    }
    if (!IsFinal(payment.status())) {
      problems.push_back(payment.id() + " is still " + Name(payment.status()) + " (" +
                         payment.failure_reason() + ")");
    }
    const bool approved = payment.status() == posd::v1::PAYMENT_STATUS_APPROVED ||
                          payment.status() == posd::v1::PAYMENT_STATUS_PARTIALLY_REFUNDED ||
                          payment.status() == posd::v1::PAYMENT_STATUS_REFUNDED;
    int64_t refunded = 0;
    for (const auto& refund : payment.refunds()) {
      by_id[refund.id()] = &payment;
      if (!IsFinal(refund.status())) {
        problems.push_back("refund " + refund.id() + " is still " +
                           posd::v1::RefundStatus_Name(refund.status()));
      }
      const bool paid_back = refund.status() == posd::v1::REFUND_STATUS_SUCCEEDED;
      if (paid_back) refunded += refund.amount().amount_minor();
      auto on_ledger = on_ledgers.find(refund.id());
      if (on_ledger == on_ledgers.end()) {
        if (paid_back) problems.push_back("refund " + refund.id() + " SUCCEEDED but was never paid");
        continue;
      }
      const auto& t = on_ledger->second.transaction;
      if (t.request().kind() != channel::ledger::TRANSACTION_KIND_REFUND ||
          t.request().original_transaction_id() != payment.id() ||
          t.request().amount_minor() != refund.amount().amount_minor()) {
        problems.push_back("refund " + refund.id() + " differs on the ledger: " +
                           t.request().ShortDebugString());
      }
      if (!t.has_result()) {
        problems.push_back("refund " + refund.id() + " is still running on the terminal");
        continue;
      }
      if ((t.result().outcome() == link::v1::OUTCOME_APPROVED) != paid_back) {
        problems.push_back("refund " + refund.id() + " is " +
                           posd::v1::RefundStatus_Name(refund.status()) + " in posd (" +
                           refund.failure_reason() + ") but " +
                           link::v1::Outcome_Name(t.result().outcome()) + " on terminal " +
                           on_ledger->second.device_id);
      }
    }
    if (approved && payment.refunded_amount().amount_minor() != refunded) {
      problems.push_back(payment.id() + " says " +
                         std::to_string(payment.refunded_amount().amount_minor()) +
                         " refunded, its refunds " + std::to_string(refunded));
    }
    if (approved) {
      const auto expected = refunded == 0 ? posd::v1::PAYMENT_STATUS_APPROVED
                            : refunded >= payment.charged_amount().amount_minor()
                                ? posd::v1::PAYMENT_STATUS_REFUNDED
                                : posd::v1::PAYMENT_STATUS_PARTIALLY_REFUNDED;
      if (payment.status() != expected) {
        problems.push_back(payment.id() + " is " + Name(payment.status()) + " after refunds of " +
                           std::to_string(refunded));
      }
    }
    auto seen = on_ledgers.find(payment.id());
    if (seen == on_ledgers.end()) {
      if (approved) problems.push_back(payment.id() + " is APPROVED but was never charged");
      continue;
    }
    const auto& t = seen->second.transaction;
    if (t.request().kind() != channel::ledger::TRANSACTION_KIND_SALE) {
      problems.push_back(payment.id() + " is not a sale on the ledger");
      continue;
    }
    if (seen->second.device_id != payment.device_id()) {
      problems.push_back(payment.id() + " names terminal " + payment.device_id() +
                         " but ran on " + seen->second.device_id);
    }
    if (!t.has_result()) {
      problems.push_back(payment.id() + " is " + Name(payment.status()) + " in posd but still "
                         "running on terminal " + seen->second.device_id);
      continue;
    }
    if (t.request().amount_minor() != payment.amount().amount_minor() ||
        t.request().tip_minor() != payment.tip().amount_minor()) {
      problems.push_back(payment.id() + ": the terminal was asked for another amount");
    }
    const bool charged = t.result().outcome() == link::v1::OUTCOME_APPROVED;
    if (charged != approved) {
      problems.push_back(payment.id() + " is " + Name(payment.status()) + " in posd (" +
                         payment.failure_reason() + ") but " +
                         link::v1::Outcome_Name(t.result().outcome()) + " on terminal " +
                         seen->second.device_id);
    }
    if (charged && approved) {
      const int64_t on_terminal = t.result().amount_minor() + t.result().tip_minor();
      if (payment.charged_amount().amount_minor() != on_terminal) {
        problems.push_back(payment.id() + " charged " + std::to_string(on_terminal) +
                           " on the terminal but posd says " +
                           std::to_string(payment.charged_amount().amount_minor()));
      }
    }
  }
  for (const auto& [id, seen] : on_ledgers) {
    if (by_id.count(id) == 0) {
      problems.push_back(id + " is on the ledger of " + seen.device_id +
                         " but posd has no such payment or refund");
    }
  }
  return problems;
}

std::vector<std::string> CompareWithEvents(const std::vector<Payment>& payments,
                                           const std::vector<posd::v1::Event>& events) {
  std::vector<std::string> problems;
  std::map<std::string, const posd::v1::Event*> last_of;
  for (size_t i = 0; i < events.size(); ++i) {
    const posd::v1::Event& event = events[i];
    if (i > 0 && event.sequence() != events[i - 1].sequence() + 1) {
      problems.push_back("the event log jumps from " + std::to_string(events[i - 1].sequence()) +
                         " to " + std::to_string(event.sequence()));
    }
    if (event.kind() == posd::v1::EVENT_KIND_PAYMENT_CHANGED) {
      last_of[event.payment().id()] = &event;
    }
  }
  for (const Payment& payment : payments) {
    auto it = last_of.find(payment.id());
    if (it == last_of.end()) {
      problems.push_back(payment.id() + " has no PAYMENT_CHANGED event");
      continue;
    }
    const posd::v1::Event& last = *it->second;
    if (last.payment().status() != payment.status()) {
      problems.push_back(payment.id() + " is " + Name(payment.status()) +
                         " but its last event says " + Name(last.payment().status()));
    }
    if (payment.last_event_sequence() != last.sequence()) {
      problems.push_back(payment.id() + " names event " +
                         std::to_string(payment.last_event_sequence()) + ", its last is " +
                         std::to_string(last.sequence()));
    }
  }
  return problems;
}

std::string Tail(const std::string& text, size_t lines) {
  size_t position = text.size();
  for (size_t i = 0; i <= lines && position > 0; ++i) {
    position = text.rfind('\n', position - 1);
    if (position == std::string::npos) return text;
  }
  return text.substr(position + 1);
}

}  // namespace posd::testing
