#include "service/api/payment_service.h"

#include "service/api/engine_call.h"

namespace posd::api {

PaymentService::PaymentService(engine::Engine& engine)
    : ApiAdapter("posd.v1.PaymentService", &engine), engine_(engine) {
  Unary("CreatePayment", this, &PaymentService::CreatePayment);
  Unary("GetPayment", this, &PaymentService::GetPayment);
  Unary("ListPayments", this, &PaymentService::ListPayments);
  Unary("CancelPayment", this, &PaymentService::CancelPayment);
  Unary("RefundPayment", this, &PaymentService::RefundPayment);
  Unary("ResolvePayment", this, &PaymentService::ResolvePayment);
  Unary("ResolveRefund", this, &PaymentService::ResolveRefund);
}

void PaymentService::CreatePayment(grpc::CallbackServerContext& context,
                                   const posd::v1::CreatePaymentRequest& request,
                                   engine::Callback<posd::v1::Payment> done) {
  engine_.CreatePayment(ActorOf(context), request, std::move(done));
}

void PaymentService::GetPayment(grpc::CallbackServerContext&,
                                const posd::v1::GetPaymentRequest& request,
                                engine::Callback<posd::v1::Payment> done) {
  done(engine_.queries().GetPayment(request.payment_id()));
}

void PaymentService::ListPayments(grpc::CallbackServerContext&,
                                  const posd::v1::ListPaymentsRequest& request,
                                  engine::Callback<posd::v1::ListPaymentsResponse> done) {
  done(engine_.queries().ListPayments(request));
}

void PaymentService::CancelPayment(grpc::CallbackServerContext& context,
                                   const posd::v1::CancelPaymentRequest& request,
                                   engine::Callback<posd::v1::Payment> done) {
  engine_.CancelPayment(ActorOf(context), request, std::move(done));
}

void PaymentService::RefundPayment(grpc::CallbackServerContext& context,
                                   const posd::v1::RefundPaymentRequest& request,
                                   engine::Callback<posd::v1::Refund> done) {
  engine_.RefundPayment(ActorOf(context), request, std::move(done));
}

void PaymentService::ResolvePayment(grpc::CallbackServerContext& context,
                                    const posd::v1::ResolvePaymentRequest& request,
                                    engine::Callback<posd::v1::Payment> done) {
  engine_.ResolvePayment(ActorOf(context), request, std::move(done));
}

void PaymentService::ResolveRefund(grpc::CallbackServerContext& context,
                                   const posd::v1::ResolveRefundRequest& request,
                                   engine::Callback<posd::v1::Refund> done) {
  engine_.ResolveRefund(ActorOf(context), request, std::move(done));
}

}  // namespace posd::api
