// A small canvas plot for the demo: a function of lambda in R^2 drawn as shaded bands with contour
// lines (marching squares at quantile levels), the optimum as a red X, and iterate paths on top.

export interface Window2D {
  x: [number, number];
  y: [number, number];
}

export interface Path {
  label: string;
  color: string;
  points: number[][];
}

const MARGIN = { left: 46, right: 12, top: 12, bottom: 40 };

/** Levels at evenly spaced quantiles of the sampled values, so detail shows where values crowd. */
function quantileLevels(values: Float64Array, count: number): number[] {
  const sorted = Float64Array.from(values).sort();
  const levels = Array.from({ length: count }, (_, i) => sorted[Math.floor(((i + 0.5) / count) * (sorted.length - 1))]!);
  return [...new Set(levels)];
}

// Light to dark blue-grey: low values light, so the dark paths stand out where the optimum is.
function shade(t: number): string {
  const c = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${c(246, 120)}, ${c(248, 138)}, ${c(252, 168)})`;
}

export class ContourPlot {
  private readonly ctx: CanvasRenderingContext2D;
  private background: ImageBitmap | HTMLCanvasElement | null = null;
  private readonly size: { w: number; h: number };

  constructor(private readonly canvas: HTMLCanvasElement, private readonly win: Window2D) {
    // Draw at the device's pixel density so lines stay sharp.
    const dpr = window.devicePixelRatio || 1;
    this.size = { w: canvas.clientWidth || canvas.width, h: canvas.clientHeight || canvas.height };
    canvas.width = Math.round(this.size.w * dpr);
    canvas.height = Math.round(this.size.h * dpr);
    this.ctx = canvas.getContext('2d')!;
    this.ctx.scale(dpr, dpr);
  }

  private get plotW(): number {
    return this.size.w - MARGIN.left - MARGIN.right;
  }

  private get plotH(): number {
    return this.size.h - MARGIN.top - MARGIN.bottom;
  }

  /** Pixel position of lambda = (x, y). */
  px(x: number, y: number): [number, number] {
    const { x: [x0, x1], y: [y0, y1] } = this.win;
    return [MARGIN.left + ((x - x0) / (x1 - x0)) * this.plotW, MARGIN.top + (1 - (y - y0) / (y1 - y0)) * this.plotH];
  }

  /** Samples fn on an n x n grid of the window and draws bands, contour lines and axes. */
  drawFunction(fn: (x: number, y: number) => number, n = 160, levelCount = 14): void {
    const { x: [x0, x1], y: [y0, y1] } = this.win;
    const xs = Array.from({ length: n }, (_, i) => x0 + ((x1 - x0) * i) / (n - 1));
    const ys = Array.from({ length: n }, (_, j) => y0 + ((y1 - y0) * j) / (n - 1));
    const v = new Float64Array(n * n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) v[j * n + i] = fn(xs[i]!, ys[j]!);
    const levels = quantileLevels(v, levelCount);
    const band = (value: number) => levels.filter((l) => value >= l).length / levels.length;

    const off = document.createElement('canvas');
    off.width = this.canvas.width;
    off.height = this.canvas.height;
    const g = off.getContext('2d')!;
    g.setTransform(this.ctx.getTransform());
    g.fillStyle = '#fff';
    g.fillRect(0, 0, this.size.w, this.size.h);
    // Bands: one rectangle per grid cell, coloured by the band of its centre value.
    const cw = this.plotW / (n - 1);
    const ch = this.plotH / (n - 1);
    for (let j = 0; j < n - 1; j++) {
      for (let i = 0; i < n - 1; i++) {
        const centre = (v[j * n + i]! + v[j * n + i + 1]! + v[(j + 1) * n + i]! + v[(j + 1) * n + i + 1]!) / 4;
        g.fillStyle = shade(band(centre));
        const [px, py] = this.px(xs[i]!, ys[j + 1]!);
        g.fillRect(px, py, cw + 0.5, ch + 0.5);
      }
    }
    // Contour lines by marching squares: in each cell, join the edge crossings of each level.
    g.strokeStyle = 'rgba(40, 50, 70, 0.55)';
    g.lineWidth = 0.8;
    g.beginPath();
    for (const level of levels) {
      for (let j = 0; j < n - 1; j++) {
        for (let i = 0; i < n - 1; i++) {
          const corners: [number, number, number][] = [
            [xs[i]!, ys[j]!, v[j * n + i]!],
            [xs[i + 1]!, ys[j]!, v[j * n + i + 1]!],
            [xs[i + 1]!, ys[j + 1]!, v[(j + 1) * n + i + 1]!],
            [xs[i]!, ys[j + 1]!, v[(j + 1) * n + i]!],
          ];
          const crossings: [number, number][] = [];
          for (let e = 0; e < 4; e++) {
            const [ax, ay, av] = corners[e]!;
            const [bx, by, bv] = corners[(e + 1) % 4]!;
            if ((av < level) !== (bv < level)) {
              const t = (level - av) / (bv - av);
              crossings.push([ax + t * (bx - ax), ay + t * (by - ay)]);
            }
          }
          // Two crossings: one segment; four (a saddle cell): pair them in order.
          for (let k = 0; k + 1 < crossings.length; k += 2) {
            g.moveTo(...this.px(...crossings[k]!));
            g.lineTo(...this.px(...crossings[k + 1]!));
          }
        }
      }
    }
    g.stroke();
    this.drawAxes(g);
    this.background = off;
    this.redraw([], null);
  }

  private drawAxes(g: CanvasRenderingContext2D): void {
    const { x: [x0, x1], y: [y0, y1] } = this.win;
    g.strokeStyle = '#333';
    g.lineWidth = 1;
    g.strokeRect(MARGIN.left, MARGIN.top, this.plotW, this.plotH);
    g.fillStyle = '#333';
    g.font = '12px system-ui, sans-serif';
    const ticks = (a: number, b: number) => Array.from({ length: 7 }, (_, i) => a + ((b - a) * i) / 6);
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const t of ticks(x0, x1)) {
      const [px, py] = this.px(t, y0);
      g.fillText(t.toFixed(1), px, py + 5);
      g.fillRect(px, py, 1, 4);
    }
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const t of ticks(y0, y1)) {
      const [px, py] = this.px(x0, t);
      g.fillText(t.toFixed(1), px - 6, py);
      g.fillRect(px - 4, py, 4, 1);
    }
    g.textAlign = 'center';
    g.textBaseline = 'bottom';
    g.fillText('λ₁', MARGIN.left + this.plotW / 2, this.size.h - 2);
    g.save();
    g.translate(12, MARGIN.top + this.plotH / 2);
    g.rotate(-Math.PI / 2);
    g.textBaseline = 'middle';
    g.fillText('λ₂', 0, 0);
    g.restore();
  }

  /** The background, then each path (line and dots), then the optimum. */
  redraw(paths: Path[], optimum: number[] | null): void {
    const g = this.ctx;
    g.clearRect(0, 0, this.size.w, this.size.h);
    if (this.background) {
      g.save();
      g.setTransform(1, 0, 0, 1, 0, 0);
      g.drawImage(this.background, 0, 0);
      g.restore();
    }
    g.save();
    g.beginPath();
    g.rect(MARGIN.left, MARGIN.top, this.plotW, this.plotH);
    g.clip();
    for (const p of paths) {
      if (!p.points.length) continue;
      g.strokeStyle = p.color;
      g.fillStyle = p.color;
      g.lineWidth = 2;
      g.beginPath();
      p.points.forEach(([x, y], i) => (i ? g.lineTo(...this.px(x!, y!)) : g.moveTo(...this.px(x!, y!))));
      g.stroke();
      for (const [x, y] of p.points) {
        const [px, py] = this.px(x!, y!);
        g.beginPath();
        g.arc(px, py, 2.5, 0, 2 * Math.PI);
        g.fill();
      }
    }
    // Last, so the paths that reach the optimum do not hide it.
    if (optimum) {
      const [ox, oy] = this.px(optimum[0]!, optimum[1]!);
      g.strokeStyle = '#d11';
      g.lineWidth = 3;
      g.beginPath();
      g.moveTo(ox - 7, oy - 7);
      g.lineTo(ox + 7, oy + 7);
      g.moveTo(ox + 7, oy - 7);
      g.lineTo(ox - 7, oy + 7);
      g.stroke();
    }
    g.restore();
  }
}
