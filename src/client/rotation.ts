/**
 * Which server the supervisor tries next: the configured links in rotation,
 * and an MQTT 5 server reference (CONNACK or DISCONNECT 0x9C Use another
 * server, 0x9D Server moved) to follow once, before the rotation resumes.
 */
import type { Link } from '../links/types.ts';

export class ServerRotation {
  readonly #links: Link[];
  #index = 0;
  /**
   * A server reference to follow, once, without backoff: a temporary one goes
   * to `link` instead of the rotation; a permanent one has replaced the
   * rotation's entry already.
   */
  #reference: { link: Link; permanent: boolean } | undefined;

  constructor(links: Link[]) {
    this.#links = [...links];
  }

  /** Position in the rotation of the link in use or the next one to be tried. */
  get index(): number {
    return this.#index % this.#links.length;
  }

  /** The link in use or the next one to be tried. */
  get current(): Link {
    const reference = this.#reference;
    return reference !== undefined && !reference.permanent ? reference.link : this.#links[this.index];
  }

  /** A server reference waits to be followed (the next attempt needs no backoff). */
  get referenced(): boolean {
    return this.#reference !== undefined;
  }

  /** The next attempt goes to `link`; a permanent move also replaces the current server in the rotation. */
  redirect(link: Link, permanent: boolean): void {
    if (permanent) this.#links[this.index] = link;
    this.#reference = { link, permanent };
  }

  /** The link for the next attempt, and whether it is a temporary reference (followed this once). */
  take(): { link: Link; redirected: boolean } {
    const link = this.current;
    const reference = this.#reference;
    const redirected = reference !== undefined && !reference.permanent;
    if (redirected) this.#reference = undefined;
    return { link, redirected };
  }

  /** An attempt failed: move to the next server; a failed redirect falls back to the rotation where it was. */
  failed(redirected: boolean): void {
    if (!redirected) this.#index++;
  }

  /** The attempt after the quiet period and backoff: a permanent reference is the rotation's entry by now. */
  settle(): void {
    if (this.#reference?.permanent) this.#reference = undefined;
  }
}
