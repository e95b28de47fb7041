import type { Store } from '../store/store.js';
import { SeatResolver } from './seats.js';

const WINDOW_MS = 24 * 3600 * 1000;

export interface ConnectStatus {
  tenant: string;
  receiving: boolean;
  seats: number;
  surfaces: { surface: string; lastSeenAt: string }[];
  lastReceivedAt: string | null;
}

/** "Receiving from N seats": distinct linked seats with records received in the last 24 h, from raw data, not rollups. */
export async function connectStatus(store: Store, tenantId: string, now = Date.now()): Promise<ConnectStatus> {
  const since = new Date(now - WINDOW_MS);
  const [all, recent, surfaces] = await Promise.all([
    store.listIdentities(tenantId),
    store.identitiesSeenSince(tenantId, since),
    store.surfacesSeen(tenantId),
  ]);
  const seats = new SeatResolver(all).countSeats(recent);
  const sorted = [...surfaces].sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
  const last = sorted[0]?.lastSeenAt ?? null;
  return {
    tenant: tenantId,
    receiving: last !== null && last.getTime() >= since.getTime(),
    seats,
    surfaces: sorted.map((s) => ({ surface: s.surface, lastSeenAt: s.lastSeenAt.toISOString() })),
    lastReceivedAt: last?.toISOString() ?? null,
  };
}
