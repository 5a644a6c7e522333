#include "service/devices/device_manager.h"

#include <chrono>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"

namespace posd::devices {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

DeviceRecord Record(std::string id, std::string port) {
  DeviceRecord record;
  record.id = std::move(id);
  record.name = "Counter";
  record.serial.port = std::move(port);
  return record;
}

std::unique_ptr<DeviceManager> NewManager() {
  DeviceManagerOptions options;
  options.recorder_capacity = 64;
  auto manager = DeviceManager::Create(options);
  EXPECT_THAT(manager.status(), IsOk());
  return *std::move(manager);
}

bool WaitForState(DeviceManager& manager, std::string_view id, State state, Reason reason) {
  return posd::testing::WaitUntil(
      [&] {
        auto device = manager.Get(id, false);
        return device.ok() && device->state() == state && device->state_reason() == reason;
      },
      std::chrono::seconds(10));
}

TEST(DeviceManagerTest, UnknownDevicesAreNotFound) {
  auto manager = NewManager();
  EXPECT_THAT(manager->CheckReady("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager->StartSale({.device_id = "nope", .transaction_id = "p1",
                                  .amount_minor = 100, .tip_minor = 0, .currency = "EUR"}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager->QueryStatus("nope", "p1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager->Get("nope", true).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager->Dump("nope", 0).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager->Remove("nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(DeviceManagerTest, AMissingPortIsDisconnectedWithItsReasonAndRecorded) {
  auto manager = NewManager();
  ASSERT_THAT(manager->Add(Record("counter-1", "/nonexistent/ttyPOS")), IsOk());
  ASSERT_TRUE(WaitForState(*manager, "counter-1", posd::v1::DEVICE_STATE_DISCONNECTED,
                           posd::v1::DEVICE_STATE_REASON_PORT_MISSING));
  auto device = manager->Get("counter-1", true);
  ASSERT_THAT(device.status(), IsOk());
  EXPECT_THAT(device->state_detail(), HasSubstr("/nonexistent/ttyPOS"));
  EXPECT_EQ(device->origin(), posd::v1::DEVICE_ORIGIN_API);
  EXPECT_EQ(device->serial().port(), "/nonexistent/ttyPOS");
  EXPECT_THAT(manager->CheckReady("counter-1"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("PORT_MISSING")));
  // New payments are refused before anything is sent.
  auto dump = manager->Dump("counter-1", 0);
  ASSERT_THAT(dump.status(), IsOk());
  ASSERT_FALSE(dump->empty());
  EXPECT_EQ(dump->front().type(), "OPEN");
  EXPECT_THAT(dump->front().error(), HasSubstr("/nonexistent/ttyPOS"));
}

TEST(DeviceManagerTest, PermissionProblemsAreAFaultThatNeedsAPerson) {
  auto manager = NewManager();
  ASSERT_THAT(manager->Add(Record("counter-1", "/dev/ttyFAKE0"), [] {
    return absl::StatusOr<std::unique_ptr<transport::ByteStream>>(
        absl::PermissionDeniedError("no permission to open /dev/ttyFAKE0 (dialout group?)"));
  }),
              IsOk());
  ASSERT_TRUE(WaitForState(*manager, "counter-1", posd::v1::DEVICE_STATE_FAULT,
                           posd::v1::DEVICE_STATE_REASON_PERMISSION_DENIED));
}

TEST(DeviceManagerTest, AddTwiceIsRefusedAndRemoveEndsTraces) {
  auto manager = NewManager();
  ASSERT_THAT(manager->Add(Record("counter-1", "/nonexistent/a")), IsOk());
  EXPECT_THAT(manager->Add(Record("counter-1", "/nonexistent/a")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(manager->Add(Record("Bad Id", "/nonexistent/b")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::atomic<int> woken{0};
  auto trace = manager->Trace("counter-1", {}, [&] { ++woken; });
  ASSERT_THAT(trace.status(), IsOk());
  ASSERT_THAT(manager->Remove("counter-1"), IsOk());
  EXPECT_TRUE(trace->subscription->has_ended());
  EXPECT_THAT(trace->subscription->ended(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager->Get("counter-1", false).status(), StatusIs(absl::StatusCode::kNotFound));
  trace->fanout->Unsubscribe(trace->subscription);
  EXPECT_TRUE(manager->List().empty());
}

TEST(DeviceManagerTest, StopClosesEveryLinkAndRefusesWork) {
  auto manager = NewManager();
  ASSERT_THAT(manager->Add(Record("counter-1", "/nonexistent/a")), IsOk());
  auto trace = manager->Trace("counter-1", {}, [] {});
  ASSERT_THAT(trace.status(), IsOk());
  manager->Stop();
  EXPECT_THAT(trace->subscription->ended(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(manager->Add(Record("counter-2", "/nonexistent/b")),
              StatusIs(absl::StatusCode::kUnavailable));
  manager->Stop();  // idempotent
}

}  // namespace
}  // namespace posd::devices
