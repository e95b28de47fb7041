// One uPlot chart over the tenant's days: bars for a single measure, lines for several. Sized to its container.
import uPlot from 'uplot';
import type { Cleanup } from '../page.js';

export interface SeriesSpec {
  readonly label: string;
  readonly color: string;
  readonly values: ArrayLike<number | null>;
}

export interface ChartSpec {
  readonly kind: 'bars' | 'lines';
  readonly series: readonly SeriesSpec[];
  /** Formats a y value for the axis and the legend. */
  readonly format: (value: number) => string;
  /** Formats the y axis ticks when they should read shorter than the legend. */
  readonly axisFormat?: (value: number) => string;
  /** Counts (seats, commits, tokens): y ticks only at whole numbers, never 0.5 commits. */
  readonly integer?: boolean;
  /** A fixed y range (e.g. 0–100 for percentages); otherwise 0 to a nice maximum. */
  readonly yRange?: readonly [number, number];
}

const DAY = 86_400;
const HEIGHT = 220;
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const AXIS_COLOR = '#5b6472';
const GRID_COLOR = 'rgba(15, 23, 42, 0.07)';
/** 1, 2, 5, 10, 20, 50, … up to 5e12: tick spacings for axes of whole numbers. */
const INTEGER_INCREMENTS = Array.from({ length: 13 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();
const axisDay = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const legendDay = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' });

export function mountChart(container: HTMLElement, xs: readonly number[], spec: ChartSpec): Cleanup {
  const first = xs[0] ?? 0;
  const last = xs[xs.length - 1] ?? first;
  const bars = spec.kind === 'bars' ? uPlot.paths.bars?.({ size: [0.7, 40], align: 0 }) : undefined;
  const options: uPlot.Options = {
    width: Math.max(240, container.clientWidth),
    height: HEIGHT,
    // Each x is a tenant calendar date placed at UTC midnight (days.ts): reading it back in UTC gives that
    // same date whatever the viewer's or the tenant's zone.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    legend: { live: true },
    scales: {
      // Half a day of padding each side so the first and last bars are whole.
      x: { time: true, range: () => [first - DAY / 2, last + DAY / 2] },
      y: {
        range: (_u, _min, max) =>
          spec.yRange ? [spec.yRange[0], spec.yRange[1]] : [0, max > 0 ? yMax(max, spec.integer === true) : 1],
      },
    },
    axes: [
      {
        font: AXIS_FONT,
        stroke: AXIS_COLOR,
        grid: { show: false },
        ticks: { stroke: GRID_COLOR },
        incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY],
        values: (_u, splits) => splits.map((s) => axisDay.format(new Date(s * 1000))),
      },
      {
        font: AXIS_FONT,
        stroke: AXIS_COLOR,
        size: 64,
        grid: { stroke: GRID_COLOR, width: 1 },
        ticks: { show: false },
        ...(spec.integer ? { incrs: INTEGER_INCREMENTS } : {}),
        values: (_u, splits) => splits.map((s) => (spec.axisFormat ?? spec.format)(s)),
      },
    ],
    series: [
      { label: 'Day', value: (_u, v) => (v == null ? '—' : legendDay.format(new Date(v * 1000))) },
      ...spec.series.map(
        (s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: spec.kind === 'bars' ? 0 : 2,
          fill: spec.kind === 'bars' ? withAlpha(s.color, 0.85) : undefined,
          ...(bars ? { paths: bars } : {}),
          points: { show: spec.kind === 'lines' && xs.length <= 45, size: 5 },
          value: (_u, v) => (v == null ? '—' : spec.format(v)),
        }),
      ),
    ],
  };
  const data = [xs, ...spec.series.map((s) => s.values)] as unknown as uPlot.AlignedData;
  const plot = new uPlot(options, data, container);
  const observer = new ResizeObserver(() => {
    const width = Math.max(240, container.clientWidth);
    if (width !== plot.width) plot.setSize({ width, height: HEIGHT });
  });
  observer.observe(container);
  return () => {
    observer.disconnect();
    plot.destroy();
  };
}

/** The top of the y axis: a little headroom over the peak, whole for counts so the top gridline is labelled. */
function yMax(peak: number, integer: boolean): number {
  const nice = niceCeil(peak * 1.08);
  return integer ? Math.ceil(nice) : nice;
}

// Round multiples of a power of ten that read well as an axis maximum, close enough to the data that a
// peak of 5,400 gets an axis to 6,000 rather than to 10,000 (half the plot empty).
function niceCeil(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
