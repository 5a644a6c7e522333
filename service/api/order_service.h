// OrderService: orders through the engine (posd.v1.OrderService).
#pragma once

#include "posd/v1/orders.pb.h"
#include "service/api/api_adapter.h"
#include "service/engine/engine.h"

namespace posd::api {

// Serves posd.v1.OrderService behind the API edge (api_adapter.h). Changes
// are engine commands (answered after their commit, on the engine's thread);
// reads use the engine's readers. UpdateOrder is not live yet
// (UNIMPLEMENTED, reason NOT_YET_AVAILABLE). Thread-safe; `engine` must
// outlive the service.
class OrderService final : public ApiAdapter {
 public:
  explicit OrderService(engine::Engine& engine);

  void CreateOrder(grpc::CallbackServerContext& context,
                   const posd::v1::CreateOrderRequest& request,
                   engine::Callback<posd::v1::Order> done);
  void GetOrder(grpc::CallbackServerContext& context, const posd::v1::GetOrderRequest& request,
                engine::Callback<posd::v1::Order> done);
  void ListOrders(grpc::CallbackServerContext& context, const posd::v1::ListOrdersRequest& request,
                  engine::Callback<posd::v1::ListOrdersResponse> done);
  void PlaceOrder(grpc::CallbackServerContext& context, const posd::v1::PlaceOrderRequest& request,
                  engine::Callback<posd::v1::Order> done);
  void CancelOrder(grpc::CallbackServerContext& context,
                   const posd::v1::CancelOrderRequest& request,
                   engine::Callback<posd::v1::Order> done);
  void UpdateOrder(grpc::CallbackServerContext& context,
                   const posd::v1::UpdateOrderRequest& request,
                   engine::Callback<posd::v1::Order> done);

 private:
  engine::Engine& engine_;
};

}  // namespace posd::api
