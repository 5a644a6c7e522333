// The checkout screens: build an order, pay it on a chosen terminal with
// live progress, show the outcome; terminals' states in the status bar and
// a banner while posd is unreachable.
import type { PosdClients } from "../api/client";
import { newRequestId } from "../api/client";
import { describeFailure, withRetries } from "../api/errors";
import type { EventFeed } from "../feed/feed";
import type { FeedStatus } from "../feed/protocol";
import { type Device, DeviceState, DeviceStateReason } from "../gen/posd/v1/devices_pb";
import type { Event as PosdEvent } from "../gen/posd/v1/events_pb";
import type { Order } from "../gen/posd/v1/orders_pb";
import { type Payment, type PaymentProgress } from "../gen/posd/v1/payments_pb";
import { Cart } from "./cart";
import { demoCatalog } from "./catalog";
import { h, replaceChildren } from "./dom";
import { formatMinor, formatMoney, parseMinor } from "./money";
import { describePayment, stageLabel } from "./outcome";

// One tap on "Charge": the ids it keeps for every retry, so a lost answer
// never creates a second order or charges twice.
interface SaleIntent {
  createOrder: string;
  placeOrder: string;
  createPayment: string;
}

interface Sale {
  order?: Order;
  payment?: Payment;
  progress?: PaymentProgress;
  notice?: { tone: "info" | "refused"; text: string };
}

// The payment on screen survives a reload of the tab (sessionStorage), so
// a payment in progress never drops out of sight.
const SALE_KEY = "posd-checkout-payment";

export class CheckoutApp {
  private readonly cart: Cart;
  private restoredPaymentId: string;
  private readonly devices = new Map<string, Device>();
  private selectedDeviceId = "";
  private sale: Sale | undefined;
  private busy = false;
  private error = "";
  private lastStreamOpens = -1;
  private lastResets = 0;

  private readonly banner = h("div", { id: "posd-unreachable", class: "banner", role: "alert", hidden: true });
  private readonly screen = h("main", { id: "screen" });
  private readonly statusBar = h("footer", { id: "status-bar", class: "status-bar" });

  constructor(root: HTMLElement, private readonly clients: PosdClients,
              private readonly feed: EventFeed, currency: string) {
    this.cart = new Cart(currency);
    this.restoredPaymentId = sessionStorage.getItem(SALE_KEY) ?? "";
    replaceChildren(root, this.banner, this.screen, this.statusBar);
    feed.onEvent((event) => this.apply(event));
    feed.onStatus((status) => this.onFeedStatus(status));
    this.render();
  }

  private onFeedStatus(status: FeedStatus): void {
    this.banner.hidden = status.connected || !(status.everConnected || status.detail !== "");
    replaceChildren(this.banner,
      h("strong", {}, "posd is unreachable."),
      " Reconnecting by itself. A payment in progress is safe: its outcome shows here when posd is back.",
      status.detail !== "" ? h("span", { class: "detail" }, ` (${status.detail})`) : null);
    // A new stream (first, reconnected, or a new leader): live-only events
    // of the gap are lost, so reload what they would have told.
    if (status.connected && status.streamOpens !== this.lastStreamOpens) {
      this.lastStreamOpens = status.streamOpens;
      void this.reload(status.resets !== this.lastResets);
      this.lastResets = status.resets;
    }
    this.renderStatusBar();
  }

  private async reload(logReplaced: boolean): Promise<void> {
    try {
      const response = await this.clients.devices.listDevices({});
      this.devices.clear();
      for (const device of response.devices) this.devices.set(device.id, device);
      if (this.selectedDeviceId === "" || !this.devices.has(this.selectedDeviceId)) {
        this.selectedDeviceId = response.devices.find((device) => device.state === DeviceState.READY)?.id
          ?? response.devices[0]?.id ?? "";
      }
      const restored = this.restoredPaymentId;
      this.restoredPaymentId = "";
      if (restored !== "" && this.sale === undefined) {
        const payment = await this.clients.payments.getPayment({ paymentId: restored });
        const order = await this.clients.orders.getOrder({ orderId: payment.orderId });
        this.sale = { order, payment };
      }
      const payment = this.sale?.payment;
      if (payment !== undefined) {
        const fresh = await this.clients.payments.getPayment({ paymentId: payment.id });
        if (logReplaced || fresh.lastEventSequence >= payment.lastEventSequence) this.sale!.payment = fresh;
      }
    } catch (error) {
      this.error = describeFailure(error).cashierText;
    }
    this.render();
  }

  private apply(event: PosdEvent): void {
    const payload = event.payload;
    switch (payload.case) {
      case "device":
        this.devices.set(payload.value.id, payload.value);
        if (this.selectedDeviceId === "") this.selectedDeviceId = payload.value.id;
        this.renderStatusBar();
        if (this.sale === undefined) this.render();
        return;
      case "payment": {
        const current = this.sale?.payment;
        if (current !== undefined && current.id === payload.value.id &&
            payload.value.lastEventSequence >= current.lastEventSequence) {
          this.sale!.payment = payload.value;
          this.render();
        }
        return;
      }
      case "paymentProgress":
        if (this.sale?.payment !== undefined && payload.value.paymentId === this.sale.payment.id) {
          this.sale.progress = payload.value;
          this.render();
        }
        return;
      case "order":
        if (this.sale?.order?.id === payload.value.id &&
            payload.value.lastEventSequence >= this.sale.order.lastEventSequence) {
          this.sale.order = payload.value;
        }
        return;
      default:
        return;
    }
  }

  private render(): void {
    const shownPayment = this.sale?.payment?.id ?? "";
    if (shownPayment !== "") sessionStorage.setItem(SALE_KEY, shownPayment);
    else if (this.restoredPaymentId === "") sessionStorage.removeItem(SALE_KEY);
    if (this.sale?.payment !== undefined) this.renderPayment(this.sale, this.sale.payment);
    else this.renderOrder();
    this.renderStatusBar();
  }

  private renderOrder(): void {
    const currency = this.cart.currency;
    // A re-render (a terminal changed state) keeps what is being typed.
    const typed = (id: string) => (this.screen.querySelector(`#${id}`) as HTMLInputElement | null)?.value ?? "";
    const nameInput = h("input", { id: "custom-name", placeholder: "Item", "aria-label": "Item name" });
    const priceInput = h("input", { id: "custom-price", placeholder: "0.00", inputmode: "decimal",
                                    "aria-label": `Unit price in ${currency}` });
    nameInput.value = typed("custom-name");
    priceInput.value = typed("custom-price");
    const addCustom = (event: Event) => {
      event.preventDefault();
      const price = parseMinor(priceInput.value, currency);
      if (nameInput.value.trim() === "" || price === undefined || price === 0n) {
        this.error = `Give the item a name and a price such as 4.50 (${currency}).`;
      } else {
        this.cart.add({ sku: `custom:${nameInput.value.trim().toLowerCase()}`, name: nameInput.value.trim(),
                        unitPriceMinor: price });
        nameInput.value = "";
        priceInput.value = "";
        this.cartChanged();
        return;
      }
      this.render();
    };
    const readyDevices = [...this.devices.values()];
    const deviceSelect = h("select", { id: "terminal", "aria-label": "Terminal",
      onchange: (event: Event) => { this.selectedDeviceId = (event.target as HTMLSelectElement).value; } },
      ...readyDevices.map((device) => h("option", { value: device.id, selected: device.id === this.selectedDeviceId },
        `${device.displayName || device.id} (${DeviceState[device.state]})`)));
    replaceChildren(this.screen, h("section", { class: "order", "data-screen": "order" },
      h("div", { class: "catalog" },
        h("h2", {}, "Products"),
        h("div", { class: "products" }, ...demoCatalog.map((product) =>
          h("button", { class: "product", "data-sku": product.sku, onclick: () => {
            this.cart.add(product);
            this.cartChanged();
          } }, h("span", {}, product.name), h("span", { class: "price" }, formatMinor(product.unitPriceMinor, currency))))),
        h("form", { class: "custom", onsubmit: addCustom },
          nameInput, priceInput, h("button", { id: "add-custom", type: "submit" }, "Add"))),
      h("div", { class: "cart" },
        h("h2", {}, "Order"),
        this.cart.isEmpty ? h("p", { class: "empty" }, "Tap a product to start an order.") :
          h("ul", { id: "lines" }, ...this.cart.lines.map((line, index) =>
            h("li", { class: "line" },
              h("span", { class: "qty" }, `${line.quantity} ×`), h("span", { class: "name" }, line.name),
              h("span", { class: "price" }, formatMinor(line.unitPriceMinor * BigInt(line.quantity), currency)),
              h("button", { class: "less", "aria-label": `One ${line.name} less`,
                            onclick: () => { this.cart.adjust(index, -1); this.cartChanged(); } }, "−"),
              h("button", { class: "more", "aria-label": `One ${line.name} more`,
                            onclick: () => { this.cart.adjust(index, 1); this.cartChanged(); } }, "+")))),
        h("p", { class: "total" }, "Total ", h("strong", { id: "total" }, formatMinor(this.cart.totalMinor, currency))),
        h("label", { class: "terminal" }, "Terminal ", deviceSelect),
        this.error !== "" ? h("p", { class: "error", id: "error", role: "alert" }, this.error) : null,
        h("button", { id: "charge", class: "primary",
                      disabled: this.busy || this.cart.isEmpty || this.selectedDeviceId === "",
                      onclick: () => void this.charge() },
          this.busy ? "Starting…" : `Charge ${formatMinor(this.cart.totalMinor, currency)}`))));
  }

  private renderPayment(sale: Sale, payment: Payment): void {
    const view = describePayment(payment);
    const progress = sale.progress !== undefined && !view.final && view.tone === "pending"
      ? h("p", { class: "progress", id: "progress", "data-stage": String(sale.progress.stage) },
          sale.progress.displayMessage !== "" ? sale.progress.displayMessage : stageLabel(sale.progress.stage))
      : null;
    replaceChildren(this.screen, h("section", { class: `payment tone-${view.tone}`, "data-screen": "payment",
                                                "data-outcome": view.tone, "data-payment-id": payment.id },
      h("h2", { id: "payment-title" }, view.title),
      progress,
      h("ul", { class: "details" }, ...view.lines.map((line) => h("li", {}, line))),
      sale.notice !== undefined ? h("p", { id: "notice", class: `notice ${sale.notice.tone}`, role: "alert" },
                                    sale.notice.text) : null,
      h("div", { class: "actions" },
        view.canCancel ? h("button", { id: "cancel-payment", onclick: () => void this.cancelPayment(payment) },
                           "Cancel on terminal") : null,
        view.canRefund ? h("button", { id: "refund", onclick: () => void this.refund(payment) }, "Refund") : null,
        view.canRetry ? h("button", { id: "retry", class: "primary", onclick: () => void this.retry() },
                          "Try again") : null,
        view.final ? h("button", { id: "new-sale", class: view.canRetry ? "" : "primary",
                                   onclick: () => this.newSale() }, "New sale") : null)));
  }

  private renderStatusBar(): void {
    const status = this.feed.status;
    replaceChildren(this.statusBar,
      h("span", { class: `link ${status.connected ? "up" : "down"}`, id: "link-state" },
        status.connected ? "posd connected" : "posd unreachable"),
      h("span", { class: "terminals", id: "terminals" }, ...[...this.devices.values()].map((device) =>
        h("span", { class: `terminal-state state-${DeviceState[device.state]?.toLowerCase()}`,
                    "data-device-id": device.id, "data-state": DeviceState[device.state] ?? "",
                    title: device.stateDetail },
          `${device.displayName || device.id}: ${DeviceState[device.state]}`,
          device.stateReason !== DeviceStateReason.UNSPECIFIED
            ? ` (${DeviceStateReason[device.stateReason]})` : ""))),
      h("span", { class: "feed", id: "feed-mode" },
        `events: ${this.feed.mode}${status.tabs > 0 ? `, ${status.tabs} tab${status.tabs === 1 ? "" : "s"}` : ""}`));
  }

  // Creates and places the order, then starts the payment; each step is
  // retried with its own request_id while posd is unreachable.
  private async charge(intent: SaleIntent = { createOrder: newRequestId(), placeOrder: newRequestId(),
                                              createPayment: newRequestId() }): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = "";
    this.render();
    const currency = this.cart.currency;
    try {
      let order = this.sale?.order;
      if (order === undefined) {
        order = await withRetries(() => this.clients.orders.createOrder({
          requestId: intent.createOrder,
          order: { currencyCode: currency, lines: this.cart.lines.map((line) => ({
            sku: line.sku, name: line.name, quantity: line.quantity,
            unitPrice: { amountMinor: line.unitPriceMinor, currencyCode: currency } })) },
        }));
        order = await withRetries(() => this.clients.orders.placeOrder({
          requestId: intent.placeOrder, orderId: order!.id }));
        this.sale = { order };
      } else {
        // Another payment for this order: what is due now, as posd says.
        const orderId = order.id;
        order = await withRetries(() => this.clients.orders.getOrder({ orderId }));
        this.sale = { order };
      }
      const payment = await withRetries(() => this.clients.payments.createPayment({
        requestId: intent.createPayment,
        payment: { orderId: order!.id, deviceId: this.selectedDeviceId, amount: order!.amountDue },
      }));
      this.sale = { order, payment };
    } catch (error) {
      const failure = describeFailure(error);
      this.error = `${failure.cashierText} (${failure.codeName}${failure.reasonName !== "" ? `, ${failure.reasonName}` : ""})`;
    } finally {
      this.busy = false;
      this.render();
    }
  }

  // Another payment for the same order (after a decline, cancel or failure).
  private async retry(): Promise<void> {
    const order = this.sale?.order;
    if (order === undefined) return;
    this.sale = { order };
    this.renderOrder();
    await this.charge({ createOrder: "", placeOrder: "", createPayment: newRequestId() });
  }

  private async cancelPayment(payment: Payment): Promise<void> {
    try {
      const canceled = await withRetries(() => this.clients.payments.cancelPayment({
        requestId: newRequestId(), paymentId: payment.id, reason: "canceled at the till" }));
      if (this.sale?.payment?.id === canceled.id && canceled.lastEventSequence >= this.sale.payment.lastEventSequence) {
        this.sale.payment = canceled;
      }
    } catch (error) {
      if (this.sale !== undefined) this.sale.notice = { tone: "refused", text: describeFailure(error).cashierText };
    }
    this.render();
  }

  // A till is a UI: posd refuses refunds from it (operator role). The
  // screen says so plainly instead of pretending anything happened.
  private async refund(payment: Payment): Promise<void> {
    const sale = this.sale;
    if (sale === undefined) return;
    try {
      const refund = await this.clients.payments.refundPayment({
        requestId: newRequestId(), paymentId: payment.id, reason: "refund requested at the till" });
      sale.notice = { tone: "info", text: `Refund ${refund.id} requested: ${formatMoney(refund.amount)}.` };
    } catch (error) {
      const failure = describeFailure(error);
      sale.notice = { tone: "refused",
                      text: `Refund refused (${failure.codeName}${failure.reasonName !== "" ? `, ${failure.reasonName}` : ""}): ${failure.cashierText}` };
    }
    this.render();
  }

  // An order placed for an attempt that failed before any payment no
  // longer matches the cart: cancel it (nothing was paid on it) and let the
  // next Charge create one from the lines as they are now.
  private cartChanged(): void {
    const stale = this.sale?.order;
    if (stale !== undefined && this.sale?.payment === undefined) {
      this.sale = undefined;
      void this.clients.orders.cancelOrder({ requestId: newRequestId(), orderId: stale.id,
                                             reason: "order changed at the till" }).catch(() => {});
    }
    this.error = "";
    this.render();
  }

  private newSale(): void {
    this.sale = undefined;
    this.cart.clear();
    this.error = "";
    this.render();
  }
}
