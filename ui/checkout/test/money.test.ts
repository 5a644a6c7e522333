import assert from "node:assert/strict";
import { test } from "node:test";
import { formatMinor, parseMinor } from "../src/ui/money";
import { Cart } from "../src/ui/cart";

test("parses amounts into minor units without floating point", () => {
  assert.equal(parseMinor("12.50", "EUR"), 1250n);
  assert.equal(parseMinor("12,5", "EUR"), 1250n);
  assert.equal(parseMinor("0.10", "EUR"), 10n);
  assert.equal(parseMinor("7", "EUR"), 700n);
  assert.equal(parseMinor("1000", "JPY"), 1000n);
  assert.equal(parseMinor("999999999999.99", "EUR"), 99999999999999n);
});

test("refuses what is not an amount", () => {
  for (const text of ["", "abc", "-1", "1.234", "1e3", "1.2.3", "0x10"]) {
    assert.equal(parseMinor(text, "EUR"), undefined, text);
  }
  assert.equal(parseMinor("1.5", "JPY"), undefined);
});

test("formats minor units with the currency's decimals", () => {
  assert.equal(formatMinor(1250n, "EUR"), "12.50 EUR");
  assert.equal(formatMinor(5n, "EUR"), "0.05 EUR");
  assert.equal(formatMinor(-5n, "EUR"), "-0.05 EUR");
  assert.equal(formatMinor(1000n, "JPY"), "1000 JPY");
});

test("a cart merges equal items and totals in minor units", () => {
  const cart = new Cart("EUR");
  cart.add({ sku: "coffee", name: "Coffee", unitPriceMinor: 250n });
  cart.add({ sku: "coffee", name: "Coffee", unitPriceMinor: 250n }, 2);
  cart.add({ sku: "cake", name: "Cake", unitPriceMinor: 451n });
  assert.equal(cart.lines.length, 2);
  assert.equal(cart.lines[0].quantity, 3);
  assert.equal(cart.totalMinor, 1201n);
  cart.adjust(1, -1);
  assert.equal(cart.lines.length, 1);
  assert.throws(() => cart.add({ sku: "x", name: "X", unitPriceMinor: 1n }, 0), RangeError);
});
