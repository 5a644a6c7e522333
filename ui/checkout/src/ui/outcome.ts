// What the cashier is told about a payment. The rule: never show a payment
// as done that is not, and never let one out of sight while its outcome is
// unknown.
import { type Payment, PaymentStatus, TerminalStage } from "../gen/posd/v1/payments_pb";
import { formatMoney } from "./money";

export type Tone = "pending" | "approved" | "declined" | "canceled" | "failed" | "in-doubt";

export interface PaymentView {
  tone: Tone;
  final: boolean;  // the outcome is known and will not change by itself
  title: string;
  lines: string[];
  // What the cashier may do next (buttons the screen shows).
  canRetry: boolean;   // take another payment for the same order
  canCancel: boolean;  // ask the terminal to abort
  canRefund: boolean;
}

const stageText: Partial<Record<TerminalStage, string>> = {
  [TerminalStage.WAITING_FOR_CARD]: "Waiting for the card",
  [TerminalStage.READING_CARD]: "Reading the card",
  [TerminalStage.PIN_ENTRY]: "Customer is entering the PIN",
  [TerminalStage.PROCESSING]: "Processing",
  [TerminalStage.APPROVED_SHOWN]: "Terminal shows approved",
  [TerminalStage.DECLINED_SHOWN]: "Terminal shows declined",
};

export function stageLabel(stage: TerminalStage): string {
  return stageText[stage] ?? "Waiting for the terminal";
}

function cardLine(payment: Payment): string[] {
  const card = payment.card;
  if (card === undefined || card.maskedPan === "") return [];
  const approval = card.approvalCode !== "" ? `, approval ${card.approvalCode}` : "";
  return [`${card.brand} ${card.maskedPan}${approval}`];
}

export function describePayment(payment: Payment): PaymentView {
  const amount = formatMoney(payment.amount);
  const base = { canRetry: false, canCancel: false, canRefund: false };
  switch (payment.status) {
    case PaymentStatus.APPROVED:
    case PaymentStatus.PARTIALLY_REFUNDED:
    case PaymentStatus.REFUNDED: {
      const refunded = payment.status === PaymentStatus.APPROVED ? []
        : [`Refunded ${formatMoney(payment.refundedAmount)}`];
      return { ...base, tone: "approved", final: true, title: `Approved: ${formatMoney(payment.chargedAmount ?? payment.amount)}`,
               lines: [...cardLine(payment), ...refunded], canRefund: payment.status !== PaymentStatus.REFUNDED };
    }
    case PaymentStatus.DECLINED:
      return { ...base, tone: "declined", final: true, title: `Declined: ${amount}`,
               lines: [payment.declineCode !== "" ? `Decline code ${payment.declineCode}` : "",
                       payment.failureReason, "Nothing was charged. Ask for another card or way to pay."]
                 .filter((line) => line !== ""),
               canRetry: true };
    case PaymentStatus.CANCELED:
      return { ...base, tone: "canceled", final: true, title: `Canceled: ${amount}`,
               lines: [payment.failureReason, "Nothing was charged."].filter((line) => line !== ""),
               canRetry: true };
    case PaymentStatus.FAILED:
      return { ...base, tone: "failed", final: true, title: `Failed: ${amount}`,
               lines: [payment.failureReason, "Nothing was charged."].filter((line) => line !== ""),
               canRetry: true };
    case PaymentStatus.IN_DOUBT:
      return { ...base, tone: "in-doubt", final: false, title: `Checking with the terminal: ${amount}`,
               lines: [
                 "The terminal's answer was lost: the card may or may not have been charged.",
                 "Do NOT take this payment again. posd keeps asking the terminal and this screen updates by itself.",
                 `If the terminal stays away, an operator settles it from the terminal's receipt: posctl payments resolve ${payment.id}.`,
               ] };
    default:
      return { ...base, tone: "pending", final: false, title: `Paying ${amount} on ${payment.deviceId}`,
               lines: [payment.terminalMessage !== "" ? payment.terminalMessage : stageLabel(payment.terminalStage)],
               canCancel: true };
  }
}
