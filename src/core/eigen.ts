/**
 * Eigendecomposition of a real symmetric matrix: Householder tridiagonalisation followed by the implicit
 * QL algorithm (tred2 / tql2 of EISPACK, as in JAMA and ml-matrix), on one flat Float64Array.
 *
 * Why not ml-matrix: it runs the same algorithm through `Matrix.get/set` on arrays of rows, and both
 * phases walk the eigenvector matrix by column; here the eigenvectors are kept transposed (one eigenvector
 * per contiguous row), so every inner loop is a contiguous scan — about ten times faster at 384 × 384,
 * which is what makes fitting an adapter with held-out tuning take a second instead of a minute.
 */
export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  readonly values: Float64Array;
  /** Eigenvectors as rows (n × n, row-major): row i is the unit eigenvector of `values[i]`. */
  readonly vectorRows: Float64Array;
}

/** `a` is n × n row-major and symmetric (only its lower triangle is read). */
export function symmetricEigenRows(a: Float64Array, n: number): SymmetricEigen {
  // w[c * n + r] holds V(r, c): V's columns are w's rows.
  const w = new Float64Array(n * n);
  for (let r = 0; r < n; r++)
    for (let c = 0; c <= r; c++) {
      const v = a[r * n + c] as number;
      w[c * n + r] = v;
      w[r * n + c] = v;
    }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(n, e, d, w);
  tql2(n, e, d, w);
  // tql2 sorts ascending; return descending.
  const values = new Float64Array(n);
  const vectorRows = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const src = n - 1 - i;
    values[i] = d[src] as number;
    vectorRows.set(w.subarray(src * n, (src + 1) * n), i * n);
  }
  return { values, vectorRows };
}

function tred2(n: number, e: Float64Array, d: Float64Array, w: Float64Array): void {
  const V = (r: number, c: number): number => w[c * n + r] as number;
  for (let j = 0; j < n; j++) d[j] = V(n - 1, j);
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k] as number);
    if (scale === 0) {
      e[i] = d[i - 1] as number;
      for (let j = 0; j < i; j++) {
        d[j] = V(i - 1, j);
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = (d[k] as number) / scale;
        h += (d[k] as number) * (d[k] as number);
      }
      let f = d[i - 1] as number;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        w[i * n + j] = f; // V(j, i) = f
        const col = j * n; // column j of V
        g = (e[j] as number) + (w[col + j] as number) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const vkj = w[col + k] as number;
          g += vkj * (d[k] as number);
          e[k] = (e[k] as number) + vkj * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = (e[j] as number) / h;
        f += (e[j] as number) * (d[j] as number);
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = (e[j] as number) - hh * (d[j] as number);
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        g = e[j] as number;
        const col = j * n;
        for (let k = j; k <= i - 1; k++) {
          w[col + k] = (w[col + k] as number) - (f * (e[k] as number) + g * (d[k] as number));
        }
        d[j] = w[col + i - 1] as number;
        w[col + i] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i] as number; // V(n-1, i) = V(i, i)
    w[i * n + i] = 1;
    const h = d[i + 1] as number;
    const next = (i + 1) * n; // column i+1 of V
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = (w[next + k] as number) / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += (w[next + k] as number) * (w[col + k] as number);
        for (let k = 0; k <= i; k++) w[col + k] = (w[col + k] as number) - g * (d[k] as number);
      }
    }
    for (let k = 0; k <= i; k++) w[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1] as number;
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

function tql2(n: number, e: Float64Array, d: Float64Array, w: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i] as number;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m] as number) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      do {
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        p = d[m] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * (e[i] as number);
          h = c * p;
          r = Math.hypot(p, e[i] as number);
          e[i + 1] = s * r;
          s = (e[i] as number) / r;
          c = p / r;
          p = c * (d[i] as number) - s * g;
          d[i + 1] = h + s * (c * g + s * (d[i] as number));
          const ci = i * n;
          const cn = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const hk = w[cn + k] as number;
            const vi = w[ci + k] as number;
            w[cn + k] = s * vi + c * hk;
            w[ci + k] = c * vi - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > eps * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i] as number;
    for (let j = i + 1; j < n; j++) {
      if ((d[j] as number) < p) {
        k = j;
        p = d[j] as number;
      }
    }
    if (k !== i) {
      d[k] = d[i] as number;
      d[i] = p;
      const a = w.slice(i * n, (i + 1) * n);
      w.copyWithin(i * n, k * n, (k + 1) * n);
      w.set(a, k * n);
    }
  }
}
