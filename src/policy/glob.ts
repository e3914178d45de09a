/**
 * Globs over VM names: `*` any run of characters, `?` one character,
 * `[abc]`/`[a-z]` a class. VM names are flat (no path separators), so this
 * small translation is all that is needed.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

export function isValidGlob(glob: string): boolean {
  try {
    globToRegExp(glob);
    return true;
  } catch {
    return false;
  }
}
