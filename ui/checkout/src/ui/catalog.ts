// The demo shop's products. posd has no catalog: a shop's real UI brings
// its own; the checkout only needs sku, name and unit price per line.
export interface Product {
  sku: string;
  name: string;
  unitPriceMinor: bigint;
}

export const demoCatalog: Product[] = [
  { sku: "coffee", name: "Coffee", unitPriceMinor: 250n },
  { sku: "cappuccino", name: "Cappuccino", unitPriceMinor: 320n },
  { sku: "croissant", name: "Croissant", unitPriceMinor: 180n },
  { sku: "sandwich", name: "Sandwich", unitPriceMinor: 650n },
  { sku: "juice", name: "Orange juice", unitPriceMinor: 390n },
  { sku: "cake", name: "Cheesecake", unitPriceMinor: 450n },
];
