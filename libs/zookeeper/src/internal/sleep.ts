/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits for `work` to settle (resolved or rejected), at most `ms`: true if it settled in time.
 * `ms` undefined waits without a limit. The timer is cleared either way, so a bounded wait never
 * keeps the process alive.
 */
export async function settledWithin(work: Promise<unknown>, ms?: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  if (ms === undefined) return settled;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds left until `deadline` (epoch ms), undefined for no deadline. */
export function msUntil(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : deadline - Date.now();
}
