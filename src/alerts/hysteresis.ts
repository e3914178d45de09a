/**
 * A measured value against a warning and a critical level, with hysteresis
 * and a hold time:
 *
 * | state    | goes to  | when                                                        |
 * | -------- | -------- | ----------------------------------------------------------- |
 * | clear    | pending  | the value crosses the level                                 |
 * | pending  | clear    | the value is back on the safe side of the level             |
 * | pending  | active   | it stayed across the level for `holdMs`                     |
 * | active   | clear    | the value is back past the level by `margin` (not before)   |
 *
 * Each level has its own state; the severity is that of the highest active
 * level. An unknown value (null) changes nothing and restarts the hold, so
 * a gap in the figures never fires and never clears an alert.
 */
import type { Severity } from './alert.js';

export interface LevelsSpec {
  /** `above`: high is bad (CPU, memory). `below`: low is bad (free space). */
  readonly direction: 'above' | 'below';
  readonly warning: number | null;
  readonly critical: number | null;
  /** How far back past a level the value must go before that level clears, in the value's unit. */
  readonly margin: number;
  /** How long the value must stay across a level before it fires. */
  readonly holdMs: number;
}

interface LevelState {
  active: boolean;
  since?: number;
}

export interface LevelReading {
  /** The severity in force after this reading, or null when no level is active. */
  readonly severity: Extract<Severity, 'warning' | 'critical'> | null;
  /** The level that severity comes from. */
  readonly level?: number;
}

export class Hysteresis {
  private readonly warning: LevelState = { active: false };
  private readonly critical: LevelState = { active: false };

  constructor(private readonly spec: LevelsSpec) {}

  observe(value: number | null, now: number): LevelReading {
    const { spec } = this;
    this.step(this.warning, spec.warning, value, now);
    this.step(this.critical, spec.critical, value, now);
    if (this.critical.active && spec.critical !== null) return { severity: 'critical', level: spec.critical };
    if (this.warning.active && spec.warning !== null) return { severity: 'warning', level: spec.warning };
    return { severity: null };
  }

  private step(s: LevelState, level: number | null, value: number | null, now: number): void {
    if (level === null) return;
    if (value === null || !Number.isFinite(value)) {
      s.since = undefined;
      return;
    }
    const { direction, margin, holdMs } = this.spec;
    const across = direction === 'above' ? value >= level : value <= level;
    if (s.active) {
      const back = direction === 'above' ? value < level - margin : value > level + margin;
      if (back) {
        s.active = false;
        s.since = undefined;
      }
      return;
    }
    if (!across) {
      s.since = undefined;
      return;
    }
    s.since ??= now;
    if (now - s.since >= holdMs) s.active = true;
  }
}
