// posd's gRPC API as the checkout sees it: typed clients generated from
// proto/posd/v1 over gRPC-Web, sent to the posd that served this page (the
// bundle host and the gRPC-Web bridge share one listener and origin).
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AdminService } from "../gen/posd/v1/admin_pb";
import { DeviceService } from "../gen/posd/v1/devices_pb";
import { EventService } from "../gen/posd/v1/events_pb";
import { OrderService } from "../gen/posd/v1/orders_pb";
import { PaymentService } from "../gen/posd/v1/payments_pb";

export interface PosdClients {
  admin: Client<typeof AdminService>;
  devices: Client<typeof DeviceService>;
  events: Client<typeof EventService>;
  orders: Client<typeof OrderService>;
  payments: Client<typeof PaymentService>;
}

// `origin` is the scheme, host and port posd serves gRPC-Web on: the page's
// (or worker's) own origin, which the bundle's Content-Security-Policy lets
// it connect to.
export function createPosdTransport(origin: string): Transport {
  return createGrpcWebTransport({ baseUrl: origin, useBinaryFormat: true });
}

export function createPosdClients(transport: Transport): PosdClients {
  return {
    admin: createClient(AdminService, transport),
    devices: createClient(DeviceService, transport),
    events: createClient(EventService, transport),
    orders: createClient(OrderService, transport),
    payments: createClient(PaymentService, transport),
  };
}

// A request_id for one user intention (one tap on "Pay"): kept for every
// retry of that intention, so posd executes it at most once.
// crypto.randomUUID needs a secure context; the fallback builds the same
// random (version 4) UUID from getRandomValues, which does not.
export function newRequestId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
