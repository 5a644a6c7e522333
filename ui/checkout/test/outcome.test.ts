import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PaymentSchema, PaymentStatus } from "../src/gen/posd/v1/payments_pb";
import { describePayment } from "../src/ui/outcome";

const money = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });

test("only an approved payment is shown as done", () => {
  for (const status of Object.values(PaymentStatus).filter((value) => typeof value === "number")) {
    const view = describePayment(create(PaymentSchema, { id: "pay_1", status: status as PaymentStatus,
                                                         amount: money(1250n) }));
    const approved = status === PaymentStatus.APPROVED || status === PaymentStatus.PARTIALLY_REFUNDED ||
      status === PaymentStatus.REFUNDED;
    assert.equal(view.tone === "approved", approved, PaymentStatus[status as PaymentStatus]);
    assert.equal(view.title.startsWith("Approved"), approved);
  }
});

test("in doubt is not final, forbids a new try and says what the operator does", () => {
  const view = describePayment(create(PaymentSchema, { id: "pay_7", status: PaymentStatus.IN_DOUBT,
                                                       amount: money(1250n) }));
  assert.equal(view.tone, "in-doubt");
  assert.equal(view.final, false);
  assert.equal(view.canRetry, false);
  assert.ok(view.lines.some((line) => line.includes("posctl payments resolve pay_7")));
});

test("a decline shows its code and offers another try", () => {
  const view = describePayment(create(PaymentSchema, { id: "pay_2", status: PaymentStatus.DECLINED,
                                                       amount: money(1051n), declineCode: "51" }));
  assert.equal(view.tone, "declined");
  assert.ok(view.final && view.canRetry && !view.canRefund);
  assert.ok(view.lines.includes("Decline code 51"));
});
