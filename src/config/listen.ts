/** Parses `host:port` (or `:port`, `[::1]:port`) listen options. */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(listen.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1] || '127.0.0.1', port };
}
