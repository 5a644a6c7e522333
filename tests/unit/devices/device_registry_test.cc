#include "service/devices/device_registry.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/store.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::devices {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

DeviceRecord Counter(std::string id, std::string port) {
  DeviceRecord record;
  record.id = std::move(id);
  record.name = "Counter";
  record.serial.port = std::move(port);
  return record;
}

class DeviceRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::Open({.path = dir_.File("posd.db").string()});
    ASSERT_THAT(store.status(), IsOk());
    store_ = *std::move(store);
  }
  store::Database& db() { return store_->writer(); }

  posd::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(DeviceRegistryTest, InsertedDevicesComeBackWithTheirLineSettings) {
  DeviceRecord bar = Counter("bar", "/dev/ttyUSB1");
  bar.serial.baud = 9600;
  bar.serial.data_bits = 7;
  bar.serial.parity = transport::Parity::kEven;
  bar.serial.stop_bits = transport::StopBits::kTwo;
  bar.serial.flow_control = transport::FlowControl::kRtsCts;
  ASSERT_THAT(InsertDevice(db(), bar, 1000), IsOk());
  ASSERT_THAT(InsertDevice(db(), Counter("counter-1", "/dev/ttyUSB0"), 2000), IsOk());

  auto loaded = LoadDevices(db());
  ASSERT_THAT(loaded.status(), IsOk());
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].id, "bar");  // by id
  EXPECT_EQ((*loaded)[0].serial.baud, 9600);
  EXPECT_EQ((*loaded)[0].serial.data_bits, 7);
  EXPECT_EQ((*loaded)[0].serial.parity, transport::Parity::kEven);
  EXPECT_EQ((*loaded)[0].serial.stop_bits, transport::StopBits::kTwo);
  EXPECT_EQ((*loaded)[0].serial.flow_control, transport::FlowControl::kRtsCts);
  EXPECT_EQ((*loaded)[0].created_at_ms, 1000);
  EXPECT_EQ((*loaded)[1].id, "counter-1");
  EXPECT_EQ((*loaded)[1].serial.baud, 115200);
}

DeviceRecord WiFi(std::string id, std::string host, uint16_t port) {
  DeviceRecord record;
  record.id = id;
  record.name = "Bar";
  record.link = LinkKind::kWebSocket;
  record.websocket.terminal_id = std::move(id);
  record.websocket.endpoint = {.host = std::move(host), .port = port, .path = "/posd"};
  return record;
}

TEST_F(DeviceRegistryTest, WebSocketDevicesComeBackWithTheirAddressNextToSerialOnes) {
  DeviceRecord bar = WiFi("bar-1", "10.0.0.5", 8443);
  bar.websocket.tls = true;
  bar.websocket.terminal_id = "term-77";
  ASSERT_THAT(InsertDevice(db(), bar, 1000), IsOk());
  ASSERT_THAT(InsertDevice(db(), Counter("counter-1", "/dev/ttyUSB0"), 2000), IsOk());
  auto loaded = LoadDevices(db());
  ASSERT_THAT(loaded.status(), IsOk());
  ASSERT_EQ(loaded->size(), 2u);
  const DeviceRecord& back = (*loaded)[0];
  EXPECT_EQ(back.link, LinkKind::kWebSocket);
  EXPECT_EQ(back.websocket.terminal_id, "term-77");
  EXPECT_EQ(back.websocket.endpoint.host, "10.0.0.5");
  EXPECT_EQ(back.websocket.endpoint.port, 8443);
  EXPECT_EQ(back.websocket.endpoint.path, "/posd");
  EXPECT_TRUE(back.websocket.tls);
  EXPECT_EQ(back.created_at_ms, 1000);
  EXPECT_EQ(LinkName(back), "wss://10.0.0.5:8443/posd");
  EXPECT_EQ((*loaded)[1].link, LinkKind::kSerial);

  // The same terminal id or address cannot be bound twice.
  DeviceRecord same_id = WiFi("bar-2", "10.0.0.6", 80);
  same_id.websocket.terminal_id = "term-77";
  EXPECT_THAT(InsertDevice(db(), same_id, 3000),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("bound to device bar-1")));
  EXPECT_THAT(InsertDevice(db(), WiFi("bar-3", "10.0.0.5", 8443), 3000),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already used by device bar-1")));

  // A configuration may turn a device from serial into WebSocket.
  ASSERT_THAT(UpsertDevice(db(), WiFi("counter-1", "10.0.0.9", 81), 4000), IsOk());
  loaded = LoadDevices(db());
  ASSERT_THAT(loaded.status(), IsOk());
  EXPECT_EQ((*loaded)[1].link, LinkKind::kWebSocket);
  EXPECT_EQ((*loaded)[1].websocket.endpoint.port, 81);
  EXPECT_EQ((*loaded)[1].created_at_ms, 2000);

  EXPECT_THAT(InsertDevice(db(), WiFi("bar-4", "", 80), 5000),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("websocket.port")));
  // Without an address the device follows discovery; several may.
  ASSERT_THAT(InsertDevice(db(), WiFi("bar-4", "", 0), 5000), IsOk());
  ASSERT_THAT(InsertDevice(db(), WiFi("bar-5", "", 0), 5000), IsOk());
  loaded = LoadDevices(db());
  ASSERT_THAT(loaded.status(), IsOk());
  EXPECT_EQ(std::count_if(loaded->begin(), loaded->end(),
                          [](const DeviceRecord& r) { return r.websocket.endpoint.host.empty() &&
                                                             r.link == LinkKind::kWebSocket; }),
            2);
}

TEST(WebSocketProtoTest, DefaultsAndRoundTrip) {
  posd::v1::WebSocketTransport proto;
  proto.set_host("10.0.0.5");
  auto link = WebSocketLinkFromProto(proto, "bar-1");
  ASSERT_THAT(link.status(), IsOk());
  EXPECT_EQ(link->terminal_id, "bar-1");
  EXPECT_EQ(link->endpoint.port, 80);
  EXPECT_EQ(link->endpoint.path, "/");
  proto.set_tls(true);
  EXPECT_EQ(WebSocketLinkFromProto(proto, "bar-1")->endpoint.port, 443);
  EXPECT_EQ(WebSocketLinkToProto(*link).host(), "10.0.0.5");
  proto.clear_host();
  auto follows = WebSocketLinkFromProto(proto, "bar-1");
  ASSERT_THAT(follows.status(), IsOk());
  EXPECT_EQ(follows->endpoint.host, "");
  EXPECT_EQ(follows->endpoint.port, 0);
  proto.set_port(8080);
  EXPECT_THAT(WebSocketLinkFromProto(proto, "bar-1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a host")));
}

TEST_F(DeviceRegistryTest, TakenIdsAndPortsAreRefused) {
  ASSERT_THAT(InsertDevice(db(), Counter("counter-1", "/dev/ttyUSB0"), 1), IsOk());
  EXPECT_THAT(InsertDevice(db(), Counter("counter-1", "/dev/ttyUSB9"), 2),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already exists")));
  EXPECT_THAT(InsertDevice(db(), Counter("counter-2", "/dev/ttyUSB0"), 2),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("/dev/ttyUSB0 is already used by device counter-1")));
  EXPECT_THAT(UpsertDevice(db(), Counter("counter-2", "/dev/ttyUSB0"), 2),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(DeviceRegistryTest, UpsertChangesSettingsAndKeepsCreationTime) {
  ASSERT_THAT(UpsertDevice(db(), Counter("counter-1", "/dev/ttyUSB0"), 1000), IsOk());
  DeviceRecord moved = Counter("counter-1", "/dev/ttyUSB3");
  moved.name = "Moved";
  ASSERT_THAT(UpsertDevice(db(), moved, 5000), IsOk());
  auto loaded = LoadDevices(db());
  ASSERT_THAT(loaded.status(), IsOk());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].serial.port, "/dev/ttyUSB3");
  EXPECT_EQ((*loaded)[0].name, "Moved");
  EXPECT_EQ((*loaded)[0].created_at_ms, 1000);
}

TEST_F(DeviceRegistryTest, DeleteOfAnUnknownDeviceIsNotFound) {
  ASSERT_THAT(InsertDevice(db(), Counter("counter-1", "/dev/ttyUSB0"), 1), IsOk());
  EXPECT_THAT(DeleteDevice(db(), "counter-1"), IsOk());
  EXPECT_THAT(DeleteDevice(db(), "counter-1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(LoadDevices(db())->empty());
}

TEST(DeviceIdTest, OnlyShortLowerCaseIdsStartingWithALetter) {
  EXPECT_THAT(ValidateDeviceId("counter-1"), IsOk());
  EXPECT_THAT(ValidateDeviceId("a"), IsOk());
  EXPECT_THAT(ValidateDeviceId(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateDeviceId("1counter"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateDeviceId("Counter"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateDeviceId("counter_1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateDeviceId(std::string(64, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("device_id")));
}

TEST(DeviceRecordTest, BadLineSettingsAreRefusedBeforeAnythingIsStored) {
  DeviceRecord record = Counter("counter-1", "");
  EXPECT_THAT(ValidateRecord(record),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("serial.port")));
  record.serial.port = "/dev/ttyUSB0";
  record.serial.baud = 12345;
  EXPECT_THAT(ValidateRecord(record),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("baud 12345")));
}

TEST(SerialProtoTest, UnsetFieldsTakeTheDefaultsAndRoundTrip) {
  posd::v1::SerialTransport serial;
  serial.set_port("/dev/ttyUSB0");
  auto settings = SettingsFromProto(serial);
  ASSERT_THAT(settings.status(), IsOk());
  EXPECT_EQ(settings->baud, 115200);
  EXPECT_EQ(settings->data_bits, 8);
  const posd::v1::SerialTransport back = SettingsToProto(*settings);
  EXPECT_EQ(back.baud_rate(), 115200u);
  EXPECT_EQ(back.parity(), posd::v1::PARITY_NONE);
  EXPECT_EQ(back.flow_control(), posd::v1::FLOW_CONTROL_NONE);
  serial.clear_port();
  EXPECT_THAT(SettingsFromProto(serial).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("serial.port")));
}

}  // namespace
}  // namespace posd::devices
