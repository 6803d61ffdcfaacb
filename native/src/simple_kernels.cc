#include "simple_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace realfake {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;
}  // namespace

int Threads() { return omp_get_max_threads(); }

void MaxPool(const PoolParams& p, const float* x, float* y) {
  const int64_t efh = (p.fh - 1) * p.dh + 1, efw = (p.fw - 1) * p.dw + 1;
#pragma omp parallel for collapse(2) schedule(static) if (p.n * p.oh * p.ow * p.c > kParallelMin)
  for (int64_t b = 0; b < p.n; b++) {
    for (int64_t yr = 0; yr < p.oh; yr++) {
      const int64_t r0 = yr * p.sh - p.pt;
      // tfjs's forward pool clamps to the image without stepping by the dilation from the corner.
      const int64_t rmin = std::max<int64_t>(0, r0), rmax = std::min(p.ih, efh + r0);
      for (int64_t yc = 0; yc < p.ow; yc++) {
        const int64_t c0 = yc * p.sw - p.pl;
        const int64_t cmin = std::max<int64_t>(0, c0), cmax = std::min(p.iw, efw + c0);
        float* out = y + ((b * p.oh + yr) * p.ow + yc) * p.c;
        for (int64_t d = 0; d < p.c; d++) out[d] = -std::numeric_limits<float>::infinity();
        for (int64_t r = rmin; r < rmax; r += p.dh) {
          for (int64_t c = cmin; c < cmax; c += p.dw) {
            const float* in = x + ((b * p.ih + r) * p.iw + c) * p.c;
            for (int64_t d = 0; d < p.c; d++) out[d] = in[d] > out[d] ? in[d] : out[d];
          }
        }
      }
    }
  }
}

void MaxPoolGrad(const PoolParams& p, const float* dy, const float* x, float* dx) {
  const int64_t efh = (p.fh - 1) * p.dh + 1, efw = (p.fw - 1) * p.dw + 1;
  const int64_t total = p.n * p.ih * p.iw * p.c;
  for (int64_t i = 0; i < total; i++) dx[i] = 0;
  // Windows that do not overlap write disjoint pixels, so rows can go to different threads.
  const bool disjoint = p.sh >= efh && p.sw >= efw;
  const int64_t parts = disjoint ? p.n * p.oh : p.n;
#pragma omp parallel for schedule(static) if (total > kParallelMin)
  for (int64_t part = 0; part < parts; part++) {
    const int64_t b = disjoint ? part / p.oh : part;
    const int64_t yr0 = disjoint ? part % p.oh : 0, yr1 = disjoint ? yr0 + 1 : p.oh;
    std::vector<int64_t> best(p.c);
    std::vector<float> bestValue(p.c);
    for (int64_t yr = yr0; yr < yr1; yr++) {
      const int64_t r0 = yr * p.sh - p.pt;
      int64_t rmin = r0;
      while (rmin < 0) rmin += p.dh;  // maxPoolPositions steps from the corner by the dilation
      const int64_t rmax = std::min(p.ih, efh + r0);
      for (int64_t yc = 0; yc < p.ow; yc++) {
        const int64_t c0 = yc * p.sw - p.pl;
        int64_t cmin = c0;
        while (cmin < 0) cmin += p.dw;
        const int64_t cmax = std::min(p.iw, efw + c0);
        for (int64_t d = 0; d < p.c; d++) {
          best[d] = -1;
          bestValue[d] = -std::numeric_limits<float>::infinity();
        }
        for (int64_t r = rmin; r < rmax; r += p.dh) {
          for (int64_t c = cmin; c < cmax; c += p.dw) {
            const int64_t at = ((b * p.ih + r) * p.iw + c) * p.c;
            for (int64_t d = 0; d < p.c; d++) {
              if (x[at + d] > bestValue[d]) {
                bestValue[d] = x[at + d];
                best[d] = at + d;
              }
            }
          }
        }
        const float* g = dy + ((b * p.oh + yr) * p.ow + yc) * p.c;
        for (int64_t d = 0; d < p.c; d++) {
          if (best[d] >= 0) dx[best[d]] += g[d];
        }
      }
    }
  }
}

void AvgPool(const PoolParams& p, const float* x, float* y) {
  const int64_t efh = (p.fh - 1) * p.dh + 1, efw = (p.fw - 1) * p.dw + 1;
#pragma omp parallel for collapse(2) schedule(static) if (p.n * p.oh * p.ow * p.c > kParallelMin)
  for (int64_t b = 0; b < p.n; b++) {
    for (int64_t yr = 0; yr < p.oh; yr++) {
      const int64_t r0 = yr * p.sh - p.pt;
      const int64_t rmin = std::max<int64_t>(0, r0), rmax = std::min(p.ih, efh + r0);
      std::vector<double> sum(p.c);
      for (int64_t yc = 0; yc < p.ow; yc++) {
        const int64_t c0 = yc * p.sw - p.pl;
        const int64_t cmin = std::max<int64_t>(0, c0), cmax = std::min(p.iw, efw + c0);
        std::fill(sum.begin(), sum.end(), 0.0);
        int64_t count = 0;
        for (int64_t r = rmin; r < rmax; r += p.dh) {
          for (int64_t c = cmin; c < cmax; c += p.dw) {
            const float* in = x + ((b * p.ih + r) * p.iw + c) * p.c;
            for (int64_t d = 0; d < p.c; d++) sum[d] += in[d];
            count++;
          }
        }
        float* out = y + ((b * p.oh + yr) * p.ow + yc) * p.c;
        for (int64_t d = 0; d < p.c; d++) out[d] = static_cast<float>(sum[d] / count);
      }
    }
  }
}

void AvgPoolGrad(const PoolParams& p, const float* dy, float* dx) {
  const int64_t efh = (p.fh - 1) * p.dh + 1, efw = (p.fw - 1) * p.dw + 1;
  const double scale = 1.0 / (p.fh * p.fw);
  const int64_t total = p.n * p.ih * p.iw * p.c;
  // Gather form (each dx pixel sums the windows that cover it): no two threads write the same pixel.
#pragma omp parallel for collapse(2) schedule(static) if (total > kParallelMin)
  for (int64_t b = 0; b < p.n; b++) {
    for (int64_t r = 0; r < p.ih; r++) {
      std::vector<double> acc(p.c);
      for (int64_t c = 0; c < p.iw; c++) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t wr = 0; wr < efh; wr += p.dh) {
          const int64_t num = r + p.pt - wr;
          if (num < 0 || num % p.sh) continue;
          const int64_t yr = num / p.sh;
          if (yr >= p.oh) continue;
          for (int64_t wc = 0; wc < efw; wc += p.dw) {
            const int64_t numc = c + p.pl - wc;
            if (numc < 0 || numc % p.sw) continue;
            const int64_t yc = numc / p.sw;
            if (yc >= p.ow) continue;
            const float* g = dy + ((b * p.oh + yr) * p.ow + yc) * p.c;
            for (int64_t d = 0; d < p.c; d++) acc[d] += g[d];
          }
        }
        float* out = dx + ((b * p.ih + r) * p.iw + c) * p.c;
        for (int64_t d = 0; d < p.c; d++) out[d] = static_cast<float>(acc[d] * scale);
      }
    }
  }
}

#define REALFAKE_BINARY(NAME, EXPR)                                                   \
  void NAME(const float* a, const float* b, float* out, int64_t n, int64_t bn) {      \
    if (bn == n) {                                                                    \
      _Pragma("omp parallel for simd schedule(static) if (n > kParallelMin)")         \
      for (int64_t i = 0; i < n; i++) out[i] = a[i] EXPR b[i];                        \
      return;                                                                         \
    }                                                                                 \
    const int64_t rows = n / bn;                                                      \
    _Pragma("omp parallel for schedule(static) if (n > kParallelMin)")                \
    for (int64_t r = 0; r < rows; r++) {                                              \
      const float* ar = a + r * bn;                                                   \
      float* o = out + r * bn;                                                        \
      for (int64_t j = 0; j < bn; j++) o[j] = ar[j] EXPR b[j];                        \
    }                                                                                 \
  }

REALFAKE_BINARY(Add, +)
REALFAKE_BINARY(Mul, *)
REALFAKE_BINARY(Sub, -)
REALFAKE_BINARY(Div, /)

void SpaceToBatch(const BlockParams& p, const float* x, float* out) {
  const int64_t phases = p.bh * p.bw * p.batch;
#pragma omp parallel for collapse(2) schedule(static) if (phases * p.oh * p.ow * p.c > kParallelMin)
  for (int64_t ob = 0; ob < phases; ob++) {
    for (int64_t r = 0; r < p.oh; r++) {
      const int64_t b = ob % p.batch, i = (ob / p.batch) / p.bw, j = (ob / p.batch) % p.bw;
      const int64_t y = r * p.bh + i - p.top;
      float* dst = out + (ob * p.oh + r) * p.ow * p.c;
      for (int64_t col = 0; col < p.ow; col++, dst += p.c) {
        const int64_t xx = col * p.bw + j - p.left;
        if (y < 0 || y >= p.h || xx < 0 || xx >= p.w) {
          std::fill(dst, dst + p.c, 0.0f);
        } else {
          std::copy_n(x + ((b * p.h + y) * p.w + xx) * p.c, p.c, dst);
        }
      }
    }
  }
}

void BatchToSpace(const BlockParams& p, const float* x, float* out) {
  const int64_t phases = p.bh * p.bw * p.batch;
  (void)phases;
#pragma omp parallel for collapse(2) schedule(static) if (p.batch * p.h * p.w * p.c > kParallelMin)
  for (int64_t b = 0; b < p.batch; b++) {
    for (int64_t y = 0; y < p.h; y++) {
      const int64_t Y = y + p.top, i = Y % p.bh, r = Y / p.bh;
      float* dst = out + (b * p.h + y) * p.w * p.c;
      for (int64_t xx = 0; xx < p.w; xx++, dst += p.c) {
        const int64_t X = xx + p.left, j = X % p.bw, col = X / p.bw;
        std::copy_n(x + ((((i * p.bw + j) * p.batch + b) * p.oh + r) * p.ow + col) * p.c, p.c, dst);
      }
    }
  }
}

void Relu(const float* x, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
}

void Step(const float* x, float* out, int64_t n, float alpha) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = x[i] != x[i] ? x[i] : (x[i] > 0.0f ? 1.0f : alpha);
}

void SumRows(const float* x, float* out, int64_t rows, int64_t cols) {
  const int threads = rows * cols > kParallelMin ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * cols, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double* mine = partial.data() + static_cast<size_t>(omp_get_thread_num()) * cols;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float* row = x + r * cols;
      for (int64_t c = 0; c < cols; c++) mine[c] += row[c];
    }
  }
  for (int64_t c = 0; c < cols; c++) {
    double s = 0;
    for (int t = 0; t < threads; t++) s += partial[static_cast<size_t>(t) * cols + c];
    out[c] = static_cast<float>(s);
  }
}

void Adam(float* value, float* m, float* v, const float* g, int64_t n, const AdamParams& p) {
  // The order of operations is tfjs's AdamOptimizer.applyGradients, op by op in float32, so both agree to the bit
  // but for the rounding of tfjs's double-precision JavaScript arithmetic.
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float mi = m[i] * p.beta1 + g[i] * p.oneMinusBeta1;
    const float vi = v[i] * p.beta2 + (g[i] * g[i]) * p.oneMinusBeta2;
    m[i] = mi;
    v[i] = vi;
    const float mHat = mi / p.oneMinusBeta1Power;
    const float vHat = vi / p.oneMinusBeta2Power;
    value[i] = (mHat / (std::sqrt(vHat) + p.epsilon)) * p.negLearningRate + value[i];
  }
}

}  // namespace realfake
