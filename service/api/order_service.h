// OrderService: orders through the engine (posd.v1.OrderService).
#pragma once

#include "posd/v1/orders.grpc.pb.h"
#include "service/engine/engine.h"

namespace posd::api {

// Serves posd.v1.OrderService on gRPC's callback threads. Changes are engine
// commands (answered after their commit, on the engine's thread); reads use
// the engine's readers. UpdateOrder is not live yet (UNIMPLEMENTED).
// Thread-safe; `engine` must outlive the service.
class OrderService final : public posd::v1::OrderService::CallbackService {
 public:
  explicit OrderService(engine::Engine& engine) : engine_(engine) {}

  grpc::ServerUnaryReactor* CreateOrder(grpc::CallbackServerContext* context,
                                        const posd::v1::CreateOrderRequest* request,
                                        posd::v1::Order* response) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* context,
                                     const posd::v1::GetOrderRequest* request,
                                     posd::v1::Order* response) override;
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* context,
                                       const posd::v1::ListOrdersRequest* request,
                                       posd::v1::ListOrdersResponse* response) override;
  grpc::ServerUnaryReactor* PlaceOrder(grpc::CallbackServerContext* context,
                                       const posd::v1::PlaceOrderRequest* request,
                                       posd::v1::Order* response) override;
  grpc::ServerUnaryReactor* CancelOrder(grpc::CallbackServerContext* context,
                                        const posd::v1::CancelOrderRequest* request,
                                        posd::v1::Order* response) override;
  // Answers UNIMPLEMENTED with a message that says so.
  grpc::ServerUnaryReactor* UpdateOrder(grpc::CallbackServerContext* context,
                                        const posd::v1::UpdateOrderRequest* request,
                                        posd::v1::Order* response) override;

 private:
  engine::Engine& engine_;
};

}  // namespace posd::api
