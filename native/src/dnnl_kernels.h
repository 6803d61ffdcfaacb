// oneDNN convolutions and matrix products on caller-owned buffers (tfjs CPU-backend TypedArrays).
// Activations are NHWC, filters HWIO: the layouts TensorFlow.js keeps, so nothing is copied per call.
#pragma once
#include <cstdint>
#include <string>

namespace realfake {

// Shapes and settings of one 2-D convolution, as tfjs's computeConv2DInfo gives them.
struct ConvParams {
  int64_t n, ih, iw, ic;     // input  [n, ih, iw, ic]
  int64_t kh, kw, oc;        // filter [kh, kw, ic, oc]
  int64_t oh, ow;            // output [n, oh, ow, oc]
  int64_t sh, sw, dh, dw;    // strides, dilations (1 = none)
  int64_t pt, pl, pb, pr;    // padding top, left, bottom, right
  int64_t relu;              // fuse a ReLU after the (bias) add
};

void ConvForward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y);
void ConvBackwardData(const ConvParams& p, const float* dy, const float* w, float* dx);
void ConvBackwardWeights(const ConvParams& p, const float* x, const float* dy, float* dw);

// c[b] = op(a[b]) x op(b[b]) (+ bias[n]) (ReLU); a is [batch, m, k] (or [batch, k, m] when transA).
struct MatMulParams {
  int64_t batch, m, k, n, transA, transB, relu;
};
void MatMul(const MatMulParams& p, const float* a, const float* b, const float* bias, float* c);

// Which oneDNN implementations ran, one line per primitive kind and shape (for profiles and tests).
std::string ImplementationReport();

}  // namespace realfake
