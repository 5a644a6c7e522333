#include "service/api/order_service.h"

#include "service/api/engine_call.h"

namespace posd::api {

grpc::ServerUnaryReactor* OrderService::CreateOrder(grpc::CallbackServerContext* context,
                                                    const posd::v1::CreateOrderRequest* request,
                                                    posd::v1::Order* response) {
  auto* reactor = context->DefaultReactor();
  engine_.CreateOrder(ActorOf(*context), *request, FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* OrderService::GetOrder(grpc::CallbackServerContext* context,
                                                 const posd::v1::GetOrderRequest* request,
                                                 posd::v1::Order* response) {
  return FinishRead(context, engine_.queries().GetOrder(request->order_id()), response);
}

grpc::ServerUnaryReactor* OrderService::ListOrders(grpc::CallbackServerContext* context,
                                                   const posd::v1::ListOrdersRequest* request,
                                                   posd::v1::ListOrdersResponse* response) {
  return FinishRead(context, engine_.queries().ListOrders(*request), response);
}

grpc::ServerUnaryReactor* OrderService::PlaceOrder(grpc::CallbackServerContext* context,
                                                   const posd::v1::PlaceOrderRequest* request,
                                                   posd::v1::Order* response) {
  auto* reactor = context->DefaultReactor();
  engine_.PlaceOrder(ActorOf(*context), *request, FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* OrderService::CancelOrder(grpc::CallbackServerContext* context,
                                                    const posd::v1::CancelOrderRequest* request,
                                                    posd::v1::Order* response) {
  auto* reactor = context->DefaultReactor();
  engine_.CancelOrder(ActorOf(*context), *request, FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* OrderService::UpdateOrder(grpc::CallbackServerContext* context,
                                                    const posd::v1::UpdateOrderRequest*,
                                                    posd::v1::Order*) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                               "posd.v1.OrderService.UpdateOrder is not live yet: it arrives with "
                               "'Durable orders and payments'; create the order with its lines "
                               "instead (docs/api.md lists the live methods)"));
  return reactor;
}

}  // namespace posd::api
