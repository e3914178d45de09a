/** Renders GiB the way operators read them: `64 GiB`, `1.5 GiB`, `2 TiB`. */
export function formatGiB(gib: number): string {
  if (gib >= 1024 && gib % 1024 === 0) return `${gib / 1024} TiB`;
  const rounded = Math.round(gib * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded : rounded.toFixed(1)} GiB`;
}
