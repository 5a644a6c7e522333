// The table of bad inputs for every method of posd.v1 (issue 12's classes:
// empty and oversized ids and strings, invalid UTF-8, bad enums, bad money,
// bad page sizes and tokens, blank reasons, timestamps out of range).
#pragma once

#include <string>
#include <vector>

#include "grpcpp/support/status.h"
#include "posd/v1/errors.pb.h"
#include "posd/v1/orders.pb.h"

namespace posd::testing {

// Real things in the instance under test that bad inputs may name.
struct Fixtures {
  std::string order_id;           // a PLACED order
  std::string order_page_token;   // a page token of ListOrders{page_size: 1}
  posd::v1::CreateOrderRequest created_order;  // a CreateOrder that succeeded
  posd::v1::PlaceOrderRequest place_order;     // the PlaceOrder that succeeded
};

struct BadCall {
  std::string label;
  std::string method;         // "/posd.v1.OrderService/GetOrder"
  std::string request_bytes;  // what the client sends
  grpc::StatusCode code;
  posd::v1::ErrorReason reason;
  std::string field;  // expected metadata["field"]; empty: not checked
};

std::vector<BadCall> BadInputCases(const Fixtures& fixtures);

// Full names of the API's methods that no case calls.
std::vector<std::string> MethodsWithoutCases(const std::vector<BadCall>& cases);

}  // namespace posd::testing
