// PaymentService: payments and refunds through the engine
// (posd.v1.PaymentService).
#pragma once

#include "posd/v1/payments.grpc.pb.h"
#include "service/engine/engine.h"

namespace posd::api {

// Serves posd.v1.PaymentService on gRPC's callback threads. RefundPayment,
// ResolvePayment and ResolveRefund need the operator (or fleet) role; the
// engine checks it again and audits them. CancelPayment is open to UIs (a
// customer changes their mind at the kiosk) and audited. Thread-safe;
// `engine` must outlive the service.
class PaymentService final : public posd::v1::PaymentService::CallbackService {
 public:
  explicit PaymentService(engine::Engine& engine) : engine_(engine) {}

  grpc::ServerUnaryReactor* CreatePayment(grpc::CallbackServerContext* context,
                                          const posd::v1::CreatePaymentRequest* request,
                                          posd::v1::Payment* response) override;
  grpc::ServerUnaryReactor* GetPayment(grpc::CallbackServerContext* context,
                                       const posd::v1::GetPaymentRequest* request,
                                       posd::v1::Payment* response) override;
  grpc::ServerUnaryReactor* ListPayments(grpc::CallbackServerContext* context,
                                         const posd::v1::ListPaymentsRequest* request,
                                         posd::v1::ListPaymentsResponse* response) override;
  grpc::ServerUnaryReactor* CancelPayment(grpc::CallbackServerContext* context,
                                          const posd::v1::CancelPaymentRequest* request,
                                          posd::v1::Payment* response) override;
  grpc::ServerUnaryReactor* RefundPayment(grpc::CallbackServerContext* context,
                                          const posd::v1::RefundPaymentRequest* request,
                                          posd::v1::Refund* response) override;
  grpc::ServerUnaryReactor* ResolvePayment(grpc::CallbackServerContext* context,
                                           const posd::v1::ResolvePaymentRequest* request,
                                           posd::v1::Payment* response) override;
  grpc::ServerUnaryReactor* ResolveRefund(grpc::CallbackServerContext* context,
                                          const posd::v1::ResolveRefundRequest* request,
                                          posd::v1::Refund* response) override;

 private:
  engine::Engine& engine_;
};

}  // namespace posd::api
