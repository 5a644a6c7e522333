#include "service/api/order_service.h"

#include "service/api/engine_call.h"
#include "service/common/error_info.h"

namespace posd::api {

OrderService::OrderService(engine::Engine& engine)
    : ApiAdapter("posd.v1.OrderService", &engine), engine_(engine) {
  Unary("CreateOrder", this, &OrderService::CreateOrder);
  Unary("GetOrder", this, &OrderService::GetOrder);
  Unary("ListOrders", this, &OrderService::ListOrders);
  Unary("UpdateOrder", this, &OrderService::UpdateOrder);
  Unary("PlaceOrder", this, &OrderService::PlaceOrder);
  Unary("CancelOrder", this, &OrderService::CancelOrder);
}

void OrderService::CreateOrder(grpc::CallbackServerContext& context,
                               const posd::v1::CreateOrderRequest& request,
                               engine::Callback<posd::v1::Order> done) {
  engine_.CreateOrder(ActorOf(context), request, std::move(done));
}

void OrderService::GetOrder(grpc::CallbackServerContext&, const posd::v1::GetOrderRequest& request,
                            engine::Callback<posd::v1::Order> done) {
  done(engine_.queries().GetOrder(request.order_id()));
}

void OrderService::ListOrders(grpc::CallbackServerContext&,
                              const posd::v1::ListOrdersRequest& request,
                              engine::Callback<posd::v1::ListOrdersResponse> done) {
  done(engine_.queries().ListOrders(request));
}

void OrderService::PlaceOrder(grpc::CallbackServerContext& context,
                              const posd::v1::PlaceOrderRequest& request,
                              engine::Callback<posd::v1::Order> done) {
  engine_.PlaceOrder(ActorOf(context), request, std::move(done));
}

void OrderService::CancelOrder(grpc::CallbackServerContext& context,
                               const posd::v1::CancelOrderRequest& request,
                               engine::Callback<posd::v1::Order> done) {
  engine_.CancelOrder(ActorOf(context), request, std::move(done));
}

void OrderService::UpdateOrder(grpc::CallbackServerContext&, const posd::v1::UpdateOrderRequest&,
                               engine::Callback<posd::v1::Order> done) {
  done(WithErrorDetails(
      absl::UnimplementedError(
          "posd.v1.OrderService.UpdateOrder is not live yet: it arrives with 'The engine, "
          "readable and fast'; create the order with its lines instead (docs/api.md lists the "
          "live methods)"),
      ErrorDetails{.reason = ErrorReason::kNotYetAvailable,
                   .metadata = {{"issue", "The engine, readable and fast"}}}));
}

}  // namespace posd::api
