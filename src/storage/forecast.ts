/**
 * When does a datastore fill? A straight line fitted by least squares to
 * the free space seen over a recent window, extended to zero. Pure, apart
 * from the bounded sample store the controller keeps per datastore.
 *
 * What it promises: `fullInDays` is null unless there is enough evidence
 * (at least `minSamples` samples spanning `minSpanMs` since the last time
 * space was freed) and the fitted line falls by more than two standard
 * errors of its slope; it is never a guess from one or two readings, nor
 * from noise. A datastore whose free space is unknown adds no sample
 * and keeps what it had; a change of capacity (the datastore grew) starts
 * the history again, as the old line no longer describes it.
 */

export interface FreeSample {
  /** Clock time (ms). */
  readonly at: number;
  readonly freeGiB: number;
}

export interface ForecastOptions {
  /** Only samples this recent are fitted. */
  readonly windowMs: number;
  readonly minSamples: number;
  /** The samples fitted must span at least this long. */
  readonly minSpanMs: number;
  /** Free space growing by more than this share of capacity between two samples starts a new trend (a clean-up). */
  readonly riseFraction: number;
  /** Beyond this many days, "not filling" is the honest answer. */
  readonly horizonDays: number;
}

export const DEFAULT_FORECAST: ForecastOptions = { windowMs: 24 * 3_600_000, minSamples: 5, minSpanMs: 30 * 60_000, riseFraction: 0.01, horizonDays: 3_650 };

export interface Forecast {
  /** Days until free space reaches zero at the fitted rate; null when not filling or too little data. */
  readonly fullInDays: number | null;
  /** Fitted change of free space, GiB per day (negative: filling); null with too little data. */
  readonly gibPerDay: number | null;
  /** Samples the fit used. */
  readonly samples: number;
  readonly spanMs: number;
}

const DAY_MS = 86_400_000;

/**
 * Fits the samples (any order) as of `now`. `capacityGiB`, when known,
 * sizes what counts as space being freed.
 */
export function forecastFull(samples: readonly FreeSample[], now: number, capacityGiB: number | null, options: ForecastOptions = DEFAULT_FORECAST): Forecast {
  const inWindow = samples.filter((s) => s.at <= now && s.at >= now - options.windowMs && Number.isFinite(s.freeGiB));
  // The history hands them over in order; sort only what is not (this runs for every datastore on every poll).
  if (inWindow.some((s, i) => i > 0 && s.at < (inWindow[i - 1] as FreeSample).at)) inWindow.sort((a, b) => a.at - b.at);
  // Fit only the current trend: from the last sample where free space jumped up, by more than
  // the share of capacity and more than the noise between readings can explain.
  const rise = Math.max(1, (capacityGiB ?? 0) * options.riseFraction, 4 * stepNoise(inWindow));
  let start = 0;
  for (let i = 1; i < inWindow.length; i++) if ((inWindow[i] as FreeSample).freeGiB - (inWindow[i - 1] as FreeSample).freeGiB > rise) start = i;
  const used = inWindow.slice(start);
  const spanMs = used.length ? (used[used.length - 1] as FreeSample).at - (used[0] as FreeSample).at : 0;
  if (used.length < options.minSamples || spanMs < options.minSpanMs) return { fullInDays: null, gibPerDay: null, samples: used.length, spanMs };

  // Least squares on days since the first sample, which keeps the sums small.
  const t0 = (used[0] as FreeSample).at;
  let sx = 0;
  let sy = 0;
  for (const s of used) {
    sx += (s.at - t0) / DAY_MS;
    sy += s.freeGiB;
  }
  const n = used.length;
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const s of used) {
    const dx = (s.at - t0) / DAY_MS - mx;
    sxx += dx * dx;
    sxy += dx * (s.freeGiB - my);
  }
  if (sxx <= 0) return { fullInDays: null, gibPerDay: null, samples: n, spanMs };
  const slope = sxy / sxx;
  const nowDays = (now - t0) / DAY_MS;
  const freeNow = Math.max(0, my + slope * (nowDays - mx));
  if (!(slope < 0)) return { fullInDays: null, gibPerDay: slope, samples: n, spanMs };
  // A fall within the noise is no trend: the slope must be two standard errors below zero.
  let sse = 0;
  for (const s of used) {
    const r = s.freeGiB - (my + slope * ((s.at - t0) / DAY_MS - mx));
    sse += r * r;
  }
  const stderr = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : 0;
  if (slope > -2 * stderr) return { fullInDays: null, gibPerDay: slope, samples: n, spanMs };
  const days = freeNow / -slope;
  return { fullInDays: days > options.horizonDays ? null : days, gibPerDay: slope, samples: n, spanMs };
}

/**
 * The spread of one reading to the next that is noise, not trend: the mean
 * absolute deviation of the successive differences from their mean, scaled
 * to a standard deviation (linear time: this runs for every datastore on
 * every poll; one clean-up among a day of readings barely moves it). 0 with
 * too few readings to say.
 */
function stepNoise(samples: readonly FreeSample[]): number {
  const n = samples.length - 1;
  if (n < 8) return 0;
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += (samples[i] as FreeSample).freeGiB - (samples[i - 1] as FreeSample).freeGiB;
  const mean = sum / n;
  let dev = 0;
  for (let i = 1; i <= n; i++) dev += Math.abs((samples[i] as FreeSample).freeGiB - (samples[i - 1] as FreeSample).freeGiB - mean);
  return 1.2533 * (dev / n);
}

/** "full in ~3 days", "full in ~5 hours", "full now"; for decisions and the status table. */
export function describeFullIn(days: number | null): string {
  if (days === null) return 'not filling';
  if (days * 24 < 1) return days * 24 * 60 < 1 ? 'full now' : `full in ~${Math.max(1, Math.round(days * 24 * 60))} min`;
  if (days < 2) {
    const hours = Math.round(days * 24);
    return `full in ~${hours} hour${hours === 1 ? '' : 's'}`;
  }
  return `full in ~${Math.round(days)} days`;
}

/**
 * Free-space samples of one datastore, bounded: at most one sample per
 * `windowMs / maxSamples` and nothing older than the window, so a year of
 * polls costs the same memory as a day.
 */
export class FreeSpaceHistory {
  private samples: FreeSample[] = [];
  /** The newest reading when it came too soon after the last kept sample: fitted, replaced by the next one. */
  private latest?: FreeSample;
  private capacity: number | null = null;
  private readonly spacingMs: number;

  constructor(
    private readonly options: ForecastOptions = DEFAULT_FORECAST,
    maxSamples = 288,
  ) {
    this.spacingMs = Math.max(1, Math.floor(options.windowMs / maxSamples));
  }

  get size(): number {
    return this.samples.length + (this.latest ? 1 : 0);
  }

  add(at: number, freeGiB: number | null, capacityGiB: number | null): void {
    if (freeGiB === null || !Number.isFinite(freeGiB)) return;
    if (capacityGiB !== null && this.capacity !== null && capacityGiB !== this.capacity) {
      this.samples = [];
      this.latest = undefined;
    }
    if (capacityGiB !== null) this.capacity = capacityGiB;
    const last = this.samples[this.samples.length - 1];
    if (!last || at - last.at >= this.spacingMs) {
      this.samples.push({ at, freeGiB });
      this.latest = undefined;
    } else this.latest = { at, freeGiB };
    const oldest = at - this.options.windowMs;
    let drop = 0;
    while (drop < this.samples.length && (this.samples[drop] as FreeSample).at < oldest) drop++;
    if (drop) this.samples = this.samples.slice(drop);
  }

  forecast(now: number): Forecast {
    return forecastFull(this.all(), now, this.capacity, this.options);
  }

  all(): readonly FreeSample[] {
    return this.latest ? [...this.samples, this.latest] : this.samples;
  }
}
