// Upload speed over the last few seconds, for "MB/s" and "time left".

const WINDOW_MS = 5_000;

export class Speedometer {
  private samples: { t: number; bytes: number }[] = [];

  reset(bytes: number): void {
    this.samples = [{ t: performance.now(), bytes }];
  }

  sample(bytes: number): void {
    const t = performance.now();
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0].t > WINDOW_MS) this.samples.shift();
  }

  /** Bytes per second; 0 until there is something to measure. */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < 200) return 0;
    return Math.max(0, ((last.bytes - first.bytes) * 1000) / (last.t - first.t));
  }
}
