// Pooling and elementwise kernels in plain C++ with OpenMP (the thread pool oneDNN itself uses).
// Each matches TensorFlow.js's CPU kernel of the same name, tie-breaking and NaN handling included.
#pragma once
#include <cstdint>

namespace realfake {

struct PoolParams {
  int64_t n, ih, iw, c, oh, ow;
  int64_t fh, fw, sh, sw, dh, dw;  // filter, strides, dilations
  int64_t pt, pl;                  // padding top, left
};

void MaxPool(const PoolParams& p, const float* x, float* y);
// dx = dy routed to the first maximum of each window (tfjs's maxPoolPositions rule), summed where windows overlap.
void MaxPoolGrad(const PoolParams& p, const float* dy, const float* x, float* dx);
// Average over the window's in-bounds pixels; the gradient divides by the full window (as tfjs's AvgPoolGrad does).
void AvgPool(const PoolParams& p, const float* x, float* y);
void AvgPoolGrad(const PoolParams& p, const float* dy, float* dx);

// out[i] = a[i] op b[i % bn]: same shape (bn == n) or b broadcast along the last axes (a bias).
void Add(const float* a, const float* b, float* out, int64_t n, int64_t bn);
void Mul(const float* a, const float* b, float* out, int64_t n, int64_t bn);
void Sub(const float* a, const float* b, float* out, int64_t n, int64_t bn);
void Div(const float* a, const float* b, float* out, int64_t n, int64_t bn);
void Relu(const float* x, float* out, int64_t n);
// x > 0 ? 1 : alpha, NaN stays NaN.
void Step(const float* x, float* out, int64_t n, float alpha);
// out[c] = sum over r of x[r * cols + c]: a sum over the leading axes (a bias gradient).
void SumRows(const float* x, float* out, int64_t rows, int64_t cols);
// Adam's update of one variable, in place (value, first and second moments), with tfjs's formulas and
// operation order (lib/backend/native-adam.ts). Every constant is float32, as tfjs's scalars are.
struct AdamParams {
  float negLearningRate, beta1, beta2, oneMinusBeta1, oneMinusBeta2, epsilon;
  float oneMinusBeta1Power, oneMinusBeta2Power;  // 1 - beta^t, the bias corrections of this step
};
void Adam(float* value, float* m, float* v, const float* g, int64_t n, const AdamParams& p);

// TensorFlow's SpaceToBatchND / BatchToSpaceND for NHWC with a 2-D block (how DilatedConv2D dilates):
// batch index of a phase (i, j) of image b is (i * bw + j) * batch + b.
struct BlockParams {
  int64_t batch, h, w, c;  // the spatial tensor [batch, h, w, c] (before padding / after cropping)
  int64_t bh, bw;          // block
  int64_t top, left;       // padding (space-to-batch) or crops (batch-to-space) before the image
  int64_t oh, ow;          // the batched tensor's spatial size
};
void SpaceToBatch(const BlockParams& p, const float* x, float* out);
void BatchToSpace(const BlockParams& p, const float* x, float* out);

int Threads();

}  // namespace realfake
