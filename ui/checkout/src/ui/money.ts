// Money as posd has it: an integer count of the currency's minor unit.
// The UI parses what the cashier types straight into minor units and never
// goes through floating point.
import type { Money } from "../gen/posd/v1/money_pb";

export function minorDigits(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency })
    .resolvedOptions().maximumFractionDigits ?? 2;
}

// "12.5" -> 1250n for EUR; undefined for anything that is not a
// non-negative amount with at most the currency's decimals.
export function parseMinor(text: string, currency: string): bigint | undefined {
  const digits = minorDigits(currency);
  const match = /^\s*(\d{1,12})(?:[.,](\d*))?\s*$/.exec(text);
  if (match === null) return undefined;
  const fraction = match[2] ?? "";
  if (fraction.length > digits) return undefined;
  return BigInt(match[1]) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, "0") || "0");
}

export function formatMinor(amountMinor: bigint, currency: string): string {
  const digits = minorDigits(currency);
  const negative = amountMinor < 0n;
  const absolute = negative ? -amountMinor : amountMinor;
  const scale = 10n ** BigInt(digits);
  const whole = (absolute / scale).toString();
  const fraction = digits > 0 ? "." + (absolute % scale).toString().padStart(digits, "0") : "";
  return `${negative ? "-" : ""}${whole}${fraction} ${currency}`;
}

export function formatMoney(money: Money | undefined): string {
  if (money === undefined || money.currencyCode === "") return "-";
  return formatMinor(money.amountMinor, money.currencyCode);
}
