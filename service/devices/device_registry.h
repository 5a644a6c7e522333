// The device registry: the terminals posd knows, persisted in the SQLite
// `devices` table (schema v2) so that devices added through the API survive
// a restart. Devices declared in the configuration are upserted at every
// start; which ids came from the configuration is known from the
// configuration itself (the table has no origin column), so a device dropped
// from the file stays registered until someone removes it with
// `posctl devices remove`.
//
// Writes. The engine owns posd's only write connection once it runs, so
// every registry write is a function of a store::Database& that the caller
// runs in a write transaction it owns: before the engine starts, on the
// store's writer inside its own transaction (configuration devices); after,
// through engine::WriteRunner (one command of the engine's group commit,
// together with the request journal and the audit record). Nothing here
// begins or commits.
//
// Pure functions over a connection; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posd/v1/devices.pb.h"
#include "service/store/database.h"
#include "service/transport/serial_settings.h"
#include "service/websocket/websocket_options.h"

namespace posd::devices {

// How posd reaches a terminal.
enum class LinkKind : uint8_t {
  kSerial,     // DeviceRecord::serial
  kWebSocket,  // DeviceRecord::websocket
};

// A terminal on the network that runs a WebSocket server.
struct WebSocketLink {
  // The id the terminal advertises (discovery, beacon); by default the
  // device id. Discovery binds announcements to the device by this id.
  std::string terminal_id;
  // Its fixed address. Empty host (and port 0): the device follows
  // discovery alone, taking address and port from announcements.
  websocket::Endpoint endpoint;
  bool tls = false;
};

// One registered terminal.
struct DeviceRecord {
  std::string id;
  std::string name;
  LinkKind link = LinkKind::kSerial;
  transport::SerialSettings serial;  // kSerial only
  WebSocketLink websocket;           // kWebSocket only
  int64_t created_at_ms = 0;
  bool from_config = false;  // not stored; see the file comment
};

// "/dev/ttyUSB0" or "ws://10.0.0.5:8080/" for logs and state details.
std::string LinkName(const DeviceRecord& record);

// OK for "counter-1": lower-case letters, digits and '-', 1 to 63
// characters, starting with a letter. INVALID_ARGUMENT naming `key`.
absl::Status ValidateDeviceId(std::string_view id, std::string_view key = "device_id");

// Validates the id, name length and the serial settings or WebSocket
// address. INVALID_ARGUMENT.
absl::Status ValidateRecord(const DeviceRecord& record);

// Every registered device, by id.
absl::StatusOr<std::vector<DeviceRecord>> LoadDevices(store::Database& db);

// Inserts `record` (created_at_ms = now_ms). ALREADY_EXISTS when the id is
// taken, another device uses the same serial port, or another WebSocket
// device has the same terminal id or address.
absl::Status InsertDevice(store::Database& db, const DeviceRecord& record, int64_t now_ms);

// Inserts or replaces the line settings of `record`, keeping created_at.
// ALREADY_EXISTS as InsertDevice for a line used by another device.
absl::Status UpsertDevice(store::Database& db, const DeviceRecord& record, int64_t now_ms);

// NOT_FOUND when no such device.
absl::Status DeleteDevice(store::Database& db, std::string_view id);

// At start, before the engine owns the write connection: upserts the
// devices of the configuration in one transaction of its own on `writer`,
// then returns every registered device with from_config set for those.
// Errors of the first refused device (ALREADY_EXISTS for a port taken by a
// device added through the API), or of the database.
absl::StatusOr<std::vector<DeviceRecord>> SyncConfiguredDevices(
    store::Database& writer, const std::vector<DeviceRecord>& configured, int64_t now_ms);

// Conversions between the API's SerialTransport and SerialSettings.
// INVALID_ARGUMENT for a missing port or bad settings.
absl::StatusOr<transport::SerialSettings> SettingsFromProto(const posd::v1::SerialTransport& serial);
posd::v1::SerialTransport SettingsToProto(const transport::SerialSettings& settings);

// Conversions between the API's WebSocketTransport and WebSocketLink. An
// empty terminal_id takes the device id; port 0 takes 443 with TLS, else 80;
// an empty path takes "/"; an empty host (port 0) follows discovery alone.
// INVALID_ARGUMENT for a bad id or address.
absl::StatusOr<WebSocketLink> WebSocketLinkFromProto(const posd::v1::WebSocketTransport& proto,
                                                     std::string_view device_id);
posd::v1::WebSocketTransport WebSocketLinkToProto(const WebSocketLink& link);

}  // namespace posd::devices
