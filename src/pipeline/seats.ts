import type { IdentityKey } from '../store/store.js';

/** The kinds of identifier, most readable first: an email, an account uuid, an end-user id, an install id. */
const kinds: readonly { prefix: string; of: (id: IdentityKey) => string | null }[] = [
  { prefix: 'email:', of: (id) => id.userEmail?.toLowerCase() ?? null },
  { prefix: 'account:', of: (id) => id.userAccountUuid },
  { prefix: 'enduser:', of: (id) => id.endUserId },
  { prefix: 'user:', of: (id) => id.userId },
];

/** The keys of an identity's identifiers, most readable first. */
const keysOf = (id: IdentityKey): string[] => {
  const keys: string[] = [];
  for (const { prefix, of } of kinds) {
    const v = of(id);
    if (v) keys.push(`${prefix}${v}`);
  }
  return keys;
};

/** keysOf(id)[0] without building the others: asked once per totals row of a day. */
const firstKey = (id: IdentityKey): string | undefined => {
  for (const { prefix, of } of kinds) {
    const v = of(id);
    if (v) return `${prefix}${v}`;
  }
  return undefined;
};

/** Lower is more readable. */
const rank = (key: string): number => kinds.findIndex((k) => key.startsWith(k.prefix));

/**
 * Links identifiers seen together on one record (union-find), so one person is
 * one seat even when some of their records lack the email. Each seat is named
 * by its most readable identifier.
 */
export class SeatResolver {
  private readonly parent = new Map<string, string>();
  /** Seat label by first key: the pipeline asks once per totals row, for a few thousand identities. */
  private readonly labels = new Map<string, string>();

  constructor(identities: Iterable<IdentityKey>) {
    for (const id of identities) {
      const keys = keysOf(id);
      for (const k of keys) this.find(k);
      for (let i = 1; i < keys.length; i++) this.union(keys[0] as string, keys[i] as string);
    }
  }

  /** The seat label of a record's identity; "unknown" when it carried none. */
  seatOf(id: IdentityKey): string {
    const first = firstKey(id);
    if (first === undefined) return 'unknown';
    let seat = this.labels.get(first);
    if (seat === undefined) this.labels.set(first, (seat = label(this.find(first))));
    return seat;
  }

  /** Number of distinct seats among the given identities. */
  countSeats(identities: Iterable<IdentityKey>): number {
    const seats = new Set<string>();
    for (const id of identities) {
      const first = firstKey(id);
      if (first !== undefined) seats.add(this.find(first));
    }
    return seats.size;
  }

  private find(k: string): string {
    let root = this.parent.get(k);
    if (root === undefined) {
      this.parent.set(k, k);
      return k;
    }
    while (root !== this.parent.get(root)) root = this.parent.get(root) as string;
    // Path compression keeps later lookups flat.
    let cur = k;
    while (cur !== root) {
      const next = this.parent.get(cur) as string;
      this.parent.set(cur, root);
      cur = next;
    }
    return root;
  }

  /** The root of a set is always its most readable key, so the label is the root. */
  private union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    const [winner, loser] = rank(ra) < rank(rb) || (rank(ra) === rank(rb) && ra < rb) ? [ra, rb] : [rb, ra];
    this.parent.set(loser, winner);
  }
}

/** "email:alice@example.com" → "alice@example.com"; other kinds keep their prefix so they read as what they are. */
function label(key: string): string {
  return key.startsWith('email:') ? key.slice('email:'.length) : key;
}
