#include "service/devices/device_registry.h"

#include "service/common/status_macros.h"
#include "service/common/strings.h"
#include "service/store/statement.h"
#include "service/store/transaction.h"

namespace posd::devices {
namespace {

constexpr char kColumns[] =
    "id, name, serial_port, serial_baud, serial_data_bits, serial_parity, serial_stop_bits, "
    "serial_flow_control, created_at, transport, ws_host, ws_port, ws_path, ws_terminal_id, "
    "ws_tls";
constexpr char kPlaceholders[] = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15";

// Stored as the port of a WebSocket device without an address (see
// BindRecord).
constexpr int64_t kNoAddressPort = 1;

absl::Status CheckWebSocketFree(store::Database& db, const DeviceRecord& record) {
  POSD_ASSIGN_OR_RETURN(
      auto statement,
      db.Prepare("SELECT id, ws_terminal_id = ?3 FROM devices WHERE transport = 'websocket' AND "
                 "id <> ?1 AND (ws_terminal_id = ?3 OR (ws_host = ?4 AND ws_port = ?5 AND "
                 "ws_host <> ''))"));
  POSD_RETURN_IF_ERROR(statement.BindText(1, record.id));
  POSD_RETURN_IF_ERROR(statement.BindText(3, record.websocket.terminal_id));
  POSD_RETURN_IF_ERROR(statement.BindText(4, record.websocket.endpoint.host));
  POSD_RETURN_IF_ERROR(statement.BindInt64(5, record.websocket.endpoint.port));
  POSD_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (row) {
    if (statement.ColumnInt64(1) != 0) {
      return absl::AlreadyExistsError(StrCat("terminal id ", record.websocket.terminal_id,
                                             " is already bound to device ",
                                             statement.ColumnText(0)));
    }
    return absl::AlreadyExistsError(StrCat("WebSocket terminal ", LinkName(record),
                                           " is already used by device ", statement.ColumnText(0)));
  }
  return absl::OkStatus();
}

absl::Status CheckPortFree(store::Database& db, const DeviceRecord& record) {
  if (record.link == LinkKind::kWebSocket) return CheckWebSocketFree(db, record);
  POSD_ASSIGN_OR_RETURN(auto statement,
                        db.Prepare("SELECT id FROM devices WHERE serial_port = ? AND id <> ?"));
  POSD_RETURN_IF_ERROR(statement.BindText(1, record.serial.port));
  POSD_RETURN_IF_ERROR(statement.BindText(2, record.id));
  POSD_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (row) {
    return absl::AlreadyExistsError(StrCat("serial port ", record.serial.port,
                                           " is already used by device ",
                                           statement.ColumnText(0)));
  }
  return absl::OkStatus();
}

absl::Status BindRecord(store::Statement& statement, const DeviceRecord& record, int64_t now_ms) {
  POSD_RETURN_IF_ERROR(statement.BindText(1, record.id));
  POSD_RETURN_IF_ERROR(statement.BindText(2, record.name));
  POSD_RETURN_IF_ERROR(statement.BindInt64(9, now_ms));
  if (record.link == LinkKind::kWebSocket) {
    // Serial columns stay NULL (?3 .. ?8 unbound).
    POSD_RETURN_IF_ERROR(statement.BindText(10, "websocket"));
    POSD_RETURN_IF_ERROR(statement.BindText(11, record.websocket.endpoint.host));
    // A device that follows discovery has no address: host '' and, since
    // the v2 schema requires a port 1..65535 on every WebSocket row,
    // kNoAddressPort (read back as 0 because the host is empty).
    POSD_RETURN_IF_ERROR(statement.BindInt64(
        12, record.websocket.endpoint.host.empty() ? kNoAddressPort : record.websocket.endpoint.port));
    POSD_RETURN_IF_ERROR(statement.BindText(13, record.websocket.endpoint.path));
    POSD_RETURN_IF_ERROR(statement.BindText(14, record.websocket.terminal_id));
    POSD_RETURN_IF_ERROR(statement.BindInt64(15, record.websocket.tls ? 1 : 0));
    return absl::OkStatus();
  }
  POSD_RETURN_IF_ERROR(statement.BindText(10, "serial"));
  POSD_RETURN_IF_ERROR(statement.BindInt64(15, 0));
  POSD_RETURN_IF_ERROR(statement.BindText(3, record.serial.port));
  POSD_RETURN_IF_ERROR(statement.BindInt64(4, record.serial.baud));
  POSD_RETURN_IF_ERROR(statement.BindInt64(5, record.serial.data_bits));
  POSD_RETURN_IF_ERROR(statement.BindText(6, transport::ParityName(record.serial.parity)));
  POSD_RETURN_IF_ERROR(statement.BindText(7, transport::StopBitsName(record.serial.stop_bits)));
  POSD_RETURN_IF_ERROR(
      statement.BindText(8, transport::FlowControlName(record.serial.flow_control)));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateDeviceId(std::string_view id, std::string_view key) {
  if (id.empty() || id.size() > 63) {
    return absl::InvalidArgumentError(StrCat(key, ": must be 1 to 63 characters, got ", id.size()));
  }
  if (id.front() < 'a' || id.front() > 'z') {
    return absl::InvalidArgumentError(
        StrCat(key, ": '", id, "' must start with a lower-case letter"));
  }
  for (const char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return absl::InvalidArgumentError(
          StrCat(key, ": '", id, "' may hold only lower-case letters, digits and '-'"));
    }
  }
  return absl::OkStatus();
}

std::string LinkName(const DeviceRecord& record) {
  if (record.link == LinkKind::kWebSocket) {
    if (record.websocket.endpoint.host.empty()) {
      return StrCat("terminal ", record.websocket.terminal_id, " (wherever it announces itself)");
    }
    return websocket::EndpointUrl(record.websocket.endpoint, record.websocket.tls);
  }
  return record.serial.port;
}

absl::Status ValidateRecord(const DeviceRecord& record) {
  POSD_RETURN_IF_ERROR(ValidateDeviceId(record.id));
  if (record.name.size() > 200) {
    return absl::InvalidArgumentError("display_name: longer than 200 characters");
  }
  if (record.link == LinkKind::kWebSocket) {
    POSD_RETURN_IF_ERROR(ValidateDeviceId(record.websocket.terminal_id, "websocket.terminal_id"));
    // No host: the device follows discovery alone; the path is still checked.
    websocket::Endpoint endpoint = record.websocket.endpoint;
    if (endpoint.host.empty()) {
      if (endpoint.port != 0) {
        return absl::InvalidArgumentError("websocket.port: needs a host (or 0 to follow discovery)");
      }
      endpoint = {.host = "discovery", .port = 1, .path = endpoint.path};
    }
    if (absl::Status valid = websocket::ValidateEndpoint(endpoint); !valid.ok()) {
      return absl::InvalidArgumentError(StrCat("websocket.", valid.message()));
    }
    return absl::OkStatus();
  }
  if (record.serial.port.empty()) return absl::InvalidArgumentError("serial.port: is required");
  if (absl::Status valid = record.serial.Validate(); !valid.ok()) {
    return absl::InvalidArgumentError(StrCat("serial: ", valid.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DeviceRecord>> LoadDevices(store::Database& db) {
  POSD_ASSIGN_OR_RETURN(
      auto statement,
      db.Prepare(StrCat("SELECT ", kColumns, " FROM devices ORDER BY id")));
  std::vector<DeviceRecord> records;
  while (true) {
    POSD_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    DeviceRecord record;
    record.id = std::string(statement.ColumnText(0));
    record.name = std::string(statement.ColumnText(1));
    record.created_at_ms = statement.ColumnInt64(8);
    if (statement.ColumnText(9) == "websocket") {
      record.link = LinkKind::kWebSocket;
      record.websocket.endpoint.host = std::string(statement.ColumnText(10));
      record.websocket.endpoint.port = static_cast<uint16_t>(statement.ColumnInt64(11));
      if (record.websocket.endpoint.host.empty()) record.websocket.endpoint.port = 0;
      if (!statement.ColumnIsNull(12)) {
        record.websocket.endpoint.path = std::string(statement.ColumnText(12));
      }
      record.websocket.terminal_id =
          statement.ColumnIsNull(13) ? record.id : std::string(statement.ColumnText(13));
      record.websocket.tls = statement.ColumnInt64(14) != 0;
      records.push_back(std::move(record));
      continue;
    }
    record.serial.port = std::string(statement.ColumnText(2));
    record.serial.baud = static_cast<int>(statement.ColumnInt64(3));
    if (!statement.ColumnIsNull(4)) {
      record.serial.data_bits = static_cast<int>(statement.ColumnInt64(4));
    }
    if (auto parity = transport::ParseParity(statement.ColumnText(5)); parity.ok()) {
      record.serial.parity = *parity;
    }
    if (auto stop = transport::ParseStopBits(statement.ColumnText(6)); stop.ok()) {
      record.serial.stop_bits = *stop;
    }
    if (auto flow = transport::ParseFlowControl(statement.ColumnText(7)); flow.ok()) {
      record.serial.flow_control = *flow;
    }
    record.created_at_ms = statement.ColumnInt64(8);
    records.push_back(std::move(record));
  }
  return records;
}

absl::Status InsertDevice(store::Database& db, const DeviceRecord& record, int64_t now_ms) {
  POSD_RETURN_IF_ERROR(ValidateRecord(record));
  {
    POSD_ASSIGN_OR_RETURN(auto exists, db.Prepare("SELECT 1 FROM devices WHERE id = ?"));
    POSD_RETURN_IF_ERROR(exists.BindText(1, record.id));
    POSD_ASSIGN_OR_RETURN(bool row, exists.Step());
    if (row) return absl::AlreadyExistsError(StrCat("device ", record.id, " already exists"));
  }
  POSD_RETURN_IF_ERROR(CheckPortFree(db, record));
  POSD_ASSIGN_OR_RETURN(
      auto insert,
      db.Prepare(StrCat("INSERT INTO devices (", kColumns, ", updated_at) VALUES (",
                        kPlaceholders, ", ?9)")));
  POSD_RETURN_IF_ERROR(BindRecord(insert, record, now_ms));
  return insert.Run();
}

absl::Status UpsertDevice(store::Database& db, const DeviceRecord& record, int64_t now_ms) {
  POSD_RETURN_IF_ERROR(ValidateRecord(record));
  POSD_RETURN_IF_ERROR(CheckPortFree(db, record));
  POSD_ASSIGN_OR_RETURN(
      auto upsert,
      db.Prepare(StrCat(
          "INSERT INTO devices (", kColumns, ", updated_at) VALUES (", kPlaceholders,
          ", ?9) "
          "ON CONFLICT (id) DO UPDATE SET name = excluded.name, transport = excluded.transport, "
          "serial_port = excluded.serial_port, serial_baud = excluded.serial_baud, "
          "serial_data_bits = excluded.serial_data_bits, serial_parity = excluded.serial_parity, "
          "serial_stop_bits = excluded.serial_stop_bits, "
          "serial_flow_control = excluded.serial_flow_control, ws_host = excluded.ws_host, "
          "ws_port = excluded.ws_port, ws_path = excluded.ws_path, "
          "ws_terminal_id = excluded.ws_terminal_id, ws_tls = excluded.ws_tls, "
          "updated_at = excluded.updated_at")));
  POSD_RETURN_IF_ERROR(BindRecord(upsert, record, now_ms));
  return upsert.Run();
}

absl::Status DeleteDevice(store::Database& db, std::string_view id) {
  POSD_ASSIGN_OR_RETURN(auto statement, db.Prepare("DELETE FROM devices WHERE id = ?"));
  POSD_RETURN_IF_ERROR(statement.BindText(1, id));
  POSD_RETURN_IF_ERROR(statement.Run());
  if (db.changes() == 0) return absl::NotFoundError(StrCat("no device ", id));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DeviceRecord>> SyncConfiguredDevices(
    store::Database& writer, const std::vector<DeviceRecord>& configured, int64_t now_ms) {
  {
    POSD_ASSIGN_OR_RETURN(auto transaction, store::Transaction::Begin(writer));
    for (const DeviceRecord& record : configured) {
      if (absl::Status upserted = UpsertDevice(writer, record, now_ms); !upserted.ok()) {
        return absl::Status(upserted.code(),
                            StrCat("device ", record.id, " of the configuration: ",
                                   upserted.message()));
      }
    }
    POSD_RETURN_IF_ERROR(transaction.Commit());
  }
  POSD_ASSIGN_OR_RETURN(auto records, LoadDevices(writer));
  for (DeviceRecord& record : records) {
    for (const DeviceRecord& wanted : configured) {
      if (wanted.id == record.id) record.from_config = true;
    }
  }
  return records;
}

absl::StatusOr<transport::SerialSettings> SettingsFromProto(
    const posd::v1::SerialTransport& serial) {
  transport::SerialSettings settings;
  settings.port = serial.port();
  if (serial.baud_rate() != 0) settings.baud = static_cast<int>(serial.baud_rate());
  if (serial.data_bits() != 0) settings.data_bits = static_cast<int>(serial.data_bits());
  switch (serial.parity()) {
    case posd::v1::PARITY_ODD: settings.parity = transport::Parity::kOdd; break;
    case posd::v1::PARITY_EVEN: settings.parity = transport::Parity::kEven; break;
    case posd::v1::PARITY_MARK: settings.parity = transport::Parity::kMark; break;
    case posd::v1::PARITY_SPACE: settings.parity = transport::Parity::kSpace; break;
    default: settings.parity = transport::Parity::kNone; break;
  }
  settings.stop_bits = serial.stop_bits() == posd::v1::STOP_BITS_TWO ? transport::StopBits::kTwo
                                                                      : transport::StopBits::kOne;
  switch (serial.flow_control()) {
    case posd::v1::FLOW_CONTROL_RTS_CTS: settings.flow_control = transport::FlowControl::kRtsCts; break;
    case posd::v1::FLOW_CONTROL_DTR_DSR: settings.flow_control = transport::FlowControl::kDtrDsr; break;
    case posd::v1::FLOW_CONTROL_XON_XOFF:
      settings.flow_control = transport::FlowControl::kXonXoff;
      break;
    default: settings.flow_control = transport::FlowControl::kNone; break;
  }
  if (settings.port.empty()) return absl::InvalidArgumentError("serial.port: is required");
  if (absl::Status valid = settings.Validate(); !valid.ok()) {
    return absl::InvalidArgumentError(StrCat("serial: ", valid.message()));
  }
  return settings;
}

posd::v1::SerialTransport SettingsToProto(const transport::SerialSettings& settings) {
  posd::v1::SerialTransport serial;
  serial.set_port(settings.port);
  serial.set_baud_rate(static_cast<uint32_t>(settings.baud));
  serial.set_data_bits(static_cast<uint32_t>(settings.data_bits));
  switch (settings.parity) {
    case transport::Parity::kNone: serial.set_parity(posd::v1::PARITY_NONE); break;
    case transport::Parity::kOdd: serial.set_parity(posd::v1::PARITY_ODD); break;
    case transport::Parity::kEven: serial.set_parity(posd::v1::PARITY_EVEN); break;
    case transport::Parity::kMark: serial.set_parity(posd::v1::PARITY_MARK); break;
    case transport::Parity::kSpace: serial.set_parity(posd::v1::PARITY_SPACE); break;
  }
  serial.set_stop_bits(settings.stop_bits == transport::StopBits::kTwo ? posd::v1::STOP_BITS_TWO
                                                                       : posd::v1::STOP_BITS_ONE);
  switch (settings.flow_control) {
    case transport::FlowControl::kNone: serial.set_flow_control(posd::v1::FLOW_CONTROL_NONE); break;
    case transport::FlowControl::kRtsCts:
      serial.set_flow_control(posd::v1::FLOW_CONTROL_RTS_CTS);
      break;
    case transport::FlowControl::kDtrDsr:
      serial.set_flow_control(posd::v1::FLOW_CONTROL_DTR_DSR);
      break;
    case transport::FlowControl::kXonXoff:
      serial.set_flow_control(posd::v1::FLOW_CONTROL_XON_XOFF);
      break;
  }
  return serial;
}

absl::StatusOr<WebSocketLink> WebSocketLinkFromProto(const posd::v1::WebSocketTransport& proto,
                                                     std::string_view device_id) {
  WebSocketLink link;
  link.terminal_id = proto.terminal_id().empty() ? std::string(device_id) : proto.terminal_id();
  link.tls = proto.tls();
  link.endpoint.host = proto.host();
  if (proto.port() > 65535) return absl::InvalidArgumentError("websocket.port: must be 0 to 65535");
  link.endpoint.path = proto.path().empty() ? "/" : proto.path();
  POSD_RETURN_IF_ERROR(ValidateDeviceId(link.terminal_id, "websocket.terminal_id"));
  if (link.endpoint.host.empty()) {
    // Follows discovery alone: address and port come from announcements.
    if (proto.port() != 0) {
      return absl::InvalidArgumentError("websocket.port: needs a host (or 0 to follow discovery)");
    }
    return link;
  }
  link.endpoint.port =
      static_cast<uint16_t>(proto.port() != 0 ? proto.port() : (link.tls ? 443 : 80));
  if (absl::Status valid = websocket::ValidateEndpoint(link.endpoint); !valid.ok()) {
    return absl::InvalidArgumentError(StrCat("websocket.", valid.message()));
  }
  return link;
}

posd::v1::WebSocketTransport WebSocketLinkToProto(const WebSocketLink& link) {
  posd::v1::WebSocketTransport proto;
  proto.set_terminal_id(link.terminal_id);
  proto.set_host(link.endpoint.host);
  proto.set_port(link.endpoint.port);
  proto.set_path(link.endpoint.path);
  proto.set_tls(link.tls);
  return proto;
}

}  // namespace posd::devices
