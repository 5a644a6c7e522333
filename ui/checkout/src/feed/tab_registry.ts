// The tabs a stream holder serves, so it notices the ones that closed: a
// tab says goodbye on pagehide, and one that crashed (no goodbye) is
// forgotten once its heartbeats stop for TAB_TIMEOUT_MS.
import { TAB_TIMEOUT_MS } from "./protocol";

export class TabRegistry<Handle> {
  private readonly tabs = new Map<string, { handle: Handle; lastSeenMs: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.tabs.size;
  }

  handles(): Handle[] {
    return [...this.tabs.values()].map((tab) => tab.handle);
  }

  // Records a hello or heartbeat; true when the tab is new.
  seen(tabId: string, handle: Handle): boolean {
    const isNew = !this.tabs.has(tabId);
    this.tabs.set(tabId, { handle, lastSeenMs: this.now() });
    return isNew;
  }

  // True when the tab was known.
  remove(tabId: string): boolean {
    return this.tabs.delete(tabId);
  }

  removeHandle(handle: Handle): boolean {
    for (const [tabId, tab] of this.tabs) {
      if (tab.handle === handle) return this.tabs.delete(tabId);
    }
    return false;
  }

  // Forgets tabs silent for longer than the timeout; their ids.
  sweep(): string[] {
    const cutoff = this.now() - TAB_TIMEOUT_MS;
    const gone: string[] = [];
    for (const [tabId, tab] of this.tabs) {
      if (tab.lastSeenMs < cutoff) gone.push(tabId);
    }
    for (const tabId of gone) this.tabs.delete(tabId);
    return gone;
  }
}
