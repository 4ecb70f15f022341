/**
 * A minimal typed event emitter that runs anywhere (no node:events). A
 * listener that throws does not stop the others; its error is reported on
 * the next turn so it is not swallowed.
 */
type Listener<T> = (value: T) => void;

export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners: { [K in keyof Events]?: Listener<Events[K]>[] } = {};

  /** Calls `listener` on every `event`; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const list = this.#listeners[event] ?? [];
    list.push(listener);
    this.#listeners[event] = list;
    return () => this.off(event, listener);
  }

  /** Calls `listener` on the next `event` only; returns a function that removes it. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (value) => {
      off();
      listener(value);
    });
    return off;
  }

  /** Removes a listener added with `on` or `once`. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.#listeners[event];
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** How many listeners `event` has. */
  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners[event]?.length ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    const list = this.#listeners[event];
    if (list === undefined || list.length === 0) return;
    for (const listener of list.length === 1 ? list : [...list]) {
      try {
        listener(value);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
