#include "service/api/payment_service.h"

#include "service/api/engine_call.h"

namespace posd::api {

grpc::ServerUnaryReactor* PaymentService::CreatePayment(
    grpc::CallbackServerContext* context, const posd::v1::CreatePaymentRequest* request,
    posd::v1::Payment* response) {
  auto* reactor = context->DefaultReactor();
  engine_.CreatePayment(ActorOf(*context), *request, FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentService::GetPayment(grpc::CallbackServerContext* context,
                                                     const posd::v1::GetPaymentRequest* request,
                                                     posd::v1::Payment* response) {
  return FinishRead(context, engine_.queries().GetPayment(request->payment_id()), response);
}

grpc::ServerUnaryReactor* PaymentService::ListPayments(
    grpc::CallbackServerContext* context, const posd::v1::ListPaymentsRequest* request,
    posd::v1::ListPaymentsResponse* response) {
  return FinishRead(context, engine_.queries().ListPayments(*request), response);
}

grpc::ServerUnaryReactor* PaymentService::CancelPayment(
    grpc::CallbackServerContext* context, const posd::v1::CancelPaymentRequest* request,
    posd::v1::Payment* response) {
  auto* reactor = context->DefaultReactor();
  engine_.CancelPayment(ActorOf(*context), *request, FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentService::RefundPayment(
    grpc::CallbackServerContext* context, const posd::v1::RefundPaymentRequest* request,
    posd::v1::Refund* response) {
  if (absl::Status allowed =
          RequireRole(*context, {Role::kOperator, Role::kFleet}, "refund a payment");
      !allowed.ok()) {
    return FinishRefused(context, engine_,
                         engine::Refusal{.actor = ActorOf(*context),
                                         .action = "refund_payment",
                                         .subject = request->payment_id(),
                                         .reason = request->reason(),
                                         .request_id = request->request_id(),
                                         .error = allowed});
  }
  auto* reactor = context->DefaultReactor();
  engine_.RefundPayment(ActorOf(*context), *request, FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentService::ResolvePayment(
    grpc::CallbackServerContext* context, const posd::v1::ResolvePaymentRequest* request,
    posd::v1::Payment* response) {
  if (absl::Status allowed =
          RequireRole(*context, {Role::kOperator, Role::kFleet}, "resolve a payment by hand");
      !allowed.ok()) {
    return FinishRefused(context, engine_,
                         engine::Refusal{.actor = ActorOf(*context),
                                         .action = "resolve_payment",
                                         .subject = request->payment_id(),
                                         .reason = request->reason(),
                                         .request_id = request->request_id(),
                                         .error = allowed});
  }
  auto* reactor = context->DefaultReactor();
  engine_.ResolvePayment(ActorOf(*context), *request, FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* PaymentService::ResolveRefund(
    grpc::CallbackServerContext* context, const posd::v1::ResolveRefundRequest* request,
    posd::v1::Refund* response) {
  if (absl::Status allowed =
          RequireRole(*context, {Role::kOperator, Role::kFleet}, "resolve a refund by hand");
      !allowed.ok()) {
    return FinishRefused(context, engine_,
                         engine::Refusal{.actor = ActorOf(*context),
                                         .action = "resolve_refund",
                                         .subject = request->refund_id(),
                                         .reason = request->reason(),
                                         .request_id = request->request_id(),
                                         .error = allowed});
  }
  auto* reactor = context->DefaultReactor();
  engine_.ResolveRefund(ActorOf(*context), *request, FinishWith(reactor, response));
  return reactor;
}

}  // namespace posd::api
