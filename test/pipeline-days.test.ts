import { expect } from 'chai';
import { scheduledRuns } from '../src/pipeline/jobs.js';
import { firstRecomputableDay, pastRetentionProblem, rawCutoff, scheduledDays } from '../src/pipeline/retention-window.js';
import { type Tenant, defaultPrivacyPolicy } from '../src/store/store.js';

const tenant = (id: string, timezone: string, retentionDays = 90): Tenant => ({
  id, name: id, timezone, retentionDays, allowedOrganizationIds: [], policy: { ...defaultPrivacyPolicy }, createdAt: new Date(0),
});
const at = (iso: string) => Date.parse(iso);

/** Which tenant-days the scheduled jobs compute and manual runs may recompute: pure functions of the tenant and the clock. */
describe('pipeline: the days each job computes', () => {
  // The finalize job's default cron is 00:15 UTC; 2026-03-10 is after the US (03-08), before the EU (03-29) DST change.
  const finalizeAt = at('2026-03-10T00:15:00Z');

  it('finalize: yesterday and the catch-up days before it, oldest first, in each tenant\'s own time zone', () => {
    const days = (tz: string) => scheduledDays('finalize', tenant('t', tz), finalizeAt, 3);
    expect(days('UTC')).to.deep.equal(['2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09']);
    // 17:15 on 03-09 in Los Angeles (PDT, UTC-7): its yesterday is 03-08.
    expect(days('America/Los_Angeles')).to.deep.equal(['2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08']);
    // 09:15 on 03-10 in Tokyo, 14:15 on 03-10 on Kiritimati (UTC+14).
    expect(days('Asia/Tokyo')).to.deep.equal(['2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09']);
    expect(days('Pacific/Kiritimati')).to.deep.equal(['2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09']);
    expect(scheduledDays('finalize', tenant('t', 'UTC'), finalizeAt, 0)).to.deep.equal(['2026-03-09']);
  });

  it('refresh: yesterday and today, so the first hours after midnight still reach yesterday', () => {
    expect(scheduledDays('refresh', tenant('t', 'UTC'), at('2026-03-10T00:05:00Z'), 3)).to.deep.equal(['2026-03-09', '2026-03-10']);
    // 23:59:59.999 on 03-09 in Kolkata (UTC+05:30), then 00:00 on 03-10.
    expect(scheduledDays('refresh', tenant('t', 'Asia/Kolkata'), at('2026-03-09T18:29:59.999Z'), 3)).to.deep.equal(['2026-03-08', '2026-03-09']);
    expect(scheduledDays('refresh', tenant('t', 'Asia/Kolkata'), at('2026-03-09T18:30:00Z'), 3)).to.deep.equal(['2026-03-09', '2026-03-10']);
  });

  it('never chooses a day past the tenant\'s retention', () => {
    // Retention 1: today and yesterday keep their raw records, the catch-up days do not.
    expect(scheduledDays('finalize', tenant('t', 'UTC', 1), finalizeAt, 3)).to.deep.equal(['2026-03-09']);
    expect(scheduledDays('refresh', tenant('t', 'UTC', 1), finalizeAt, 3)).to.deep.equal(['2026-03-09', '2026-03-10']);
    expect(scheduledDays('finalize', tenant('t', 'America/Los_Angeles', 2), finalizeAt, 3)).to.deep.equal(['2026-03-07', '2026-03-08']);
    expect(scheduledDays('finalize', tenant('t', 'UTC', 3), finalizeAt, 3)).to.deep.equal(['2026-03-07', '2026-03-08', '2026-03-09']);
  });

  it('the first recomputable day moves at the tenant\'s midnight, not at UTC midnight', () => {
    const tokyo = tenant('t', 'Asia/Tokyo', 1);
    // Tokyo's 03-11 begins at 2026-03-10T15:00Z.
    expect(firstRecomputableDay(tokyo, at('2026-03-10T14:59:59.999Z'))).to.equal('2026-03-09');
    expect(firstRecomputableDay(tokyo, at('2026-03-10T15:00:00Z'))).to.equal('2026-03-10');
    expect(firstRecomputableDay(tenant('t', 'UTC', 90), finalizeAt)).to.equal('2025-12-10');
  });

  it('the retention cut is the start of the first kept day, so every kept day is whole', () => {
    // 09:15 on 03-10 in Tokyo, retention 1: 03-09 and 03-10 are kept, from 03-09 00:00 +09:00.
    const cut = rawCutoff(tenant('t', 'Asia/Tokyo', 1), finalizeAt);
    expect(cut.toISOString()).to.equal('2026-03-08T15:00:00.000Z');
    expect(cut.getTime()).to.be.lessThan(finalizeAt - 86_400_000);
    // Across a DST change: Berlin's 03-29 begins at 23:00Z the day before (CET), its 03-30 at 22:00Z (CEST).
    expect(rawCutoff(tenant('t', 'Europe/Berlin', 1), at('2026-03-30T10:00:00Z')).toISOString()).to.equal('2026-03-28T23:00:00.000Z');
    expect(rawCutoff(tenant('t', 'Europe/Berlin', 1), at('2026-03-31T10:00:00Z')).toISOString()).to.equal('2026-03-29T22:00:00.000Z');
  });

  it('a manual run reaching past retention is refused, naming the first day that can run', () => {
    const t = tenant('acme', 'UTC', 1);
    expect(pastRetentionProblem(t, '2026-03-09', finalizeAt)).to.equal(null);
    expect(pastRetentionProblem(t, '2026-03-10', finalizeAt)).to.equal(null);
    const problem = pastRetentionProblem(t, '2026-03-08', finalizeAt);
    expect(problem).to.be.a('string');
    expect(problem).to.include('cannot recompute 2026-03-08');
    expect(problem).to.include('the first day that can be recomputed is 2026-03-09');
    expect(problem).to.include('"acme" keeps raw data for 1 day(s)');
  });

  it('scheduled runs cover every tenant, each with its own days', () => {
    const runs = scheduledRuns('finalize', [tenant('a', 'UTC', 1), tenant('b', 'America/Los_Angeles', 90)], finalizeAt, 1);
    expect(runs.map((r) => [r.tenant.id, r.day])).to.deep.equal([
      ['a', '2026-03-09'],
      ['b', '2026-03-07'],
      ['b', '2026-03-08'],
    ]);
  });
});
