/** Whether stdout is a terminal: live progress then rewrites one line instead of adding lines. */
export const tty = process.stdout.isTTY === true;

/** Prints a line, first clearing the progress line a terminal may be showing. */
export function say(line: string): void {
  console.log(`${tty ? '\r\x1b[K' : ''}${line}`);
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
