// PaymentService: payments and refunds through the engine
// (posd.v1.PaymentService).
#pragma once

#include "posd/v1/payments.pb.h"
#include "service/api/api_adapter.h"
#include "service/engine/engine.h"

namespace posd::api {

// Serves posd.v1.PaymentService behind the API edge (api_adapter.h), which
// has parsed, authorized (RefundPayment, ResolvePayment and ResolveRefund
// need the operator or fleet role) and validated each request; refusals of
// the audited methods are recorded by the edge and, past it, by the engine.
// Thread-safe; `engine` must outlive the service.
class PaymentService final : public ApiAdapter {
 public:
  explicit PaymentService(engine::Engine& engine);

  void CreatePayment(grpc::CallbackServerContext& context,
                     const posd::v1::CreatePaymentRequest& request,
                     engine::Callback<posd::v1::Payment> done);
  void GetPayment(grpc::CallbackServerContext& context, const posd::v1::GetPaymentRequest& request,
                  engine::Callback<posd::v1::Payment> done);
  void ListPayments(grpc::CallbackServerContext& context,
                    const posd::v1::ListPaymentsRequest& request,
                    engine::Callback<posd::v1::ListPaymentsResponse> done);
  void CancelPayment(grpc::CallbackServerContext& context,
                     const posd::v1::CancelPaymentRequest& request,
                     engine::Callback<posd::v1::Payment> done);
  void RefundPayment(grpc::CallbackServerContext& context,
                     const posd::v1::RefundPaymentRequest& request,
                     engine::Callback<posd::v1::Refund> done);
  void ResolvePayment(grpc::CallbackServerContext& context,
                      const posd::v1::ResolvePaymentRequest& request,
                      engine::Callback<posd::v1::Payment> done);
  void ResolveRefund(grpc::CallbackServerContext& context,
                     const posd::v1::ResolveRefundRequest& request,
                     engine::Callback<posd::v1::Refund> done);

 private:
  engine::Engine& engine_;
};

}  // namespace posd::api
