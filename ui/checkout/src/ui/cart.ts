// The order being built on this screen, before posd knows about it. Its
// total is a preview: posd computes the real one (discounts, rules) when
// the order is created, and the payment asks for posd's amount_due.
export interface CartLine {
  sku: string;
  name: string;
  quantity: number;
  unitPriceMinor: bigint;
}

export class Cart {
  private items: CartLine[] = [];

  constructor(readonly currency: string) {}

  get lines(): readonly CartLine[] {
    return this.items;
  }

  get isEmpty(): boolean {
    return this.items.length === 0;
  }

  // Same sku and price: one more of it; otherwise a new line.
  add(line: Omit<CartLine, "quantity">, quantity = 1): void {
    if (!Number.isInteger(quantity) || quantity <= 0) throw new RangeError("quantity must be a positive integer");
    const existing = this.items.find((item) => item.sku === line.sku && item.unitPriceMinor === line.unitPriceMinor);
    if (existing !== undefined) existing.quantity += quantity;
    else this.items.push({ ...line, quantity });
  }

  // Changes a line's quantity by `delta`; at zero the line goes.
  adjust(index: number, delta: number): void {
    const item = this.items[index];
    if (item === undefined) return;
    item.quantity += delta;
    if (item.quantity <= 0) this.items.splice(index, 1);
  }

  clear(): void {
    this.items = [];
  }

  get totalMinor(): bigint {
    return this.items.reduce((sum, item) => sum + item.unitPriceMinor * BigInt(item.quantity), 0n);
  }
}
