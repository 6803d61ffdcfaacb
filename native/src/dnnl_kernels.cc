// oneDNN primitives are built once per shape and cached (building one costs far more than running a small
// one). Activation buffers are wrapped in place; only the filters, a few hundred KB, are reordered into
// the blocked layout the fast (jit) kernels want, and gradients of the filters reordered back to HWIO.
#include "dnnl_kernels.h"

#include <dnnl.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

namespace realfake {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& Stream() {
  static dnnl::stream stream(Engine());
  return stream;
}

std::set<std::string>& Implementations() {
  static std::set<std::string> seen;
  return seen;
}

void Note(const char* what, const std::string& shape, const char* impl) {
  Implementations().insert(std::string(what) + " " + shape + ": " + impl);
}

using Key = std::vector<int64_t>;

Key ConvKey(int kind, const ConvParams& p) {
  return {kind, p.n, p.ih, p.iw, p.ic, p.kh, p.kw, p.oc, p.oh, p.ow, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, p.pb, p.pr, p.relu};
}

std::string ShapeText(const ConvParams& p) {
  char buf[160];
  snprintf(buf, sizeof buf, "x[%lld,%lld,%lld,%lld] w[%lld,%lld,%lld,%lld] s%lld d%lld", (long long)p.n, (long long)p.ih,
           (long long)p.iw, (long long)p.ic, (long long)p.kh, (long long)p.kw, (long long)p.ic, (long long)p.oc,
           (long long)p.sh, (long long)p.dh);
  return buf;
}

struct ConvDescs {
  memory::desc src, weights_any, weights_user, bias, dst;
  memory::dims strides, dilates, pad_l, pad_r;
};

ConvDescs Describe(const ConvParams& p) {
  ConvDescs d;
  d.src = memory::desc({p.n, p.ic, p.ih, p.iw}, dt::f32, tag::nhwc);
  d.dst = memory::desc({p.n, p.oc, p.oh, p.ow}, dt::f32, tag::nhwc);
  d.weights_any = memory::desc({p.oc, p.ic, p.kh, p.kw}, dt::f32, tag::any);
  d.weights_user = memory::desc({p.oc, p.ic, p.kh, p.kw}, dt::f32, tag::hwio);
  d.bias = memory::desc({p.oc}, dt::f32, tag::a);
  d.strides = {p.sh, p.sw};
  d.dilates = {p.dh - 1, p.dw - 1};  // oneDNN counts the gaps, tfjs the step
  d.pad_l = {p.pt, p.pl};
  d.pad_r = {p.pb, p.pr};
  return d;
}

dnnl::convolution_forward::primitive_desc ForwardPd(const ConvParams& p, const ConvDescs& d, bool with_bias, bool relu) {
  auto desc = with_bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                         d.src, d.weights_any, d.bias, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r)
                        : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                         d.src, d.weights_any, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r);
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return dnnl::convolution_forward::primitive_desc(desc, attr, Engine());
}

// A primitive plus the reorders that move filters between HWIO and its preferred layout.
struct ConvEntry {
  dnnl::primitive prim;
  memory::desc weights_md;  // the primitive's filter layout
  bool reorder = false;
  dnnl::reorder to_internal, to_user;
  std::unique_ptr<memory> internal;  // filter (or filter-gradient) buffer in the primitive's layout
};

std::mutex& Lock() {
  static std::mutex m;
  return m;
}

std::map<Key, std::unique_ptr<ConvEntry>>& Cache() {
  static std::map<Key, std::unique_ptr<ConvEntry>> cache;
  return cache;
}

void PrepareReorder(ConvEntry& e, const memory::desc& user, bool to_internal) {
  e.reorder = e.weights_md != user;
  if (!e.reorder) return;
  e.internal = std::make_unique<memory>(e.weights_md, Engine());
  memory user_mem(user, Engine(), DNNL_MEMORY_NONE);
  if (to_internal) e.to_internal = dnnl::reorder(user_mem, *e.internal);
  else e.to_user = dnnl::reorder(*e.internal, user_mem);
}

}  // namespace

void ConvForward(const ConvParams& p, const float* x, const float* w, const float* bias, float* y) {
  std::lock_guard<std::mutex> guard(Lock());
  ConvDescs d = Describe(p);
  Key key = ConvKey(bias ? 1 : 0, p);
  auto& slot = Cache()[key];
  if (!slot) {
    auto pd = ForwardPd(p, d, bias != nullptr, p.relu != 0);
    slot = std::make_unique<ConvEntry>();
    slot->prim = dnnl::convolution_forward(pd);
    slot->weights_md = pd.weights_desc();
    PrepareReorder(*slot, d.weights_user, true);
    Note("conv forward", ShapeText(p), pd.impl_info_str());
  }
  ConvEntry& e = *slot;
  memory src(d.src, Engine(), const_cast<float*>(x));
  memory dst(d.dst, Engine(), y);
  memory user_w(d.weights_user, Engine(), const_cast<float*>(w));
  if (e.reorder) e.to_internal.execute(Stream(), user_w, *e.internal);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, e.reorder ? *e.internal : user_w}, {DNNL_ARG_DST, dst}};
  if (bias) args.insert({DNNL_ARG_BIAS, memory(d.bias, Engine(), const_cast<float*>(bias))});
  e.prim.execute(Stream(), args);
  Stream().wait();
}

void ConvBackwardData(const ConvParams& p, const float* dy, const float* w, float* dx) {
  std::lock_guard<std::mutex> guard(Lock());
  ConvDescs d = Describe(p);
  auto& slot = Cache()[ConvKey(2, p)];
  if (!slot) {
    auto hint = ForwardPd(p, d, false, false);
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights_any, d.dst, d.strides,
                                               d.dilates, d.pad_l, d.pad_r);
    dnnl::convolution_backward_data::primitive_desc pd(desc, Engine(), hint);
    slot = std::make_unique<ConvEntry>();
    slot->prim = dnnl::convolution_backward_data(pd);
    slot->weights_md = pd.weights_desc();
    PrepareReorder(*slot, d.weights_user, true);
    Note("conv backward data", ShapeText(p), pd.impl_info_str());
  }
  ConvEntry& e = *slot;
  memory diff_dst(d.dst, Engine(), const_cast<float*>(dy));
  memory diff_src(d.src, Engine(), dx);
  memory user_w(d.weights_user, Engine(), const_cast<float*>(w));
  if (e.reorder) e.to_internal.execute(Stream(), user_w, *e.internal);
  e.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, e.reorder ? *e.internal : user_w}, {DNNL_ARG_DIFF_SRC, diff_src}});
  Stream().wait();
}

void ConvBackwardWeights(const ConvParams& p, const float* x, const float* dy, float* dw) {
  std::lock_guard<std::mutex> guard(Lock());
  ConvDescs d = Describe(p);
  auto& slot = Cache()[ConvKey(3, p)];
  if (!slot) {
    auto hint = ForwardPd(p, d, false, false);
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights_any, d.dst, d.strides,
                                                  d.dilates, d.pad_l, d.pad_r);
    dnnl::convolution_backward_weights::primitive_desc pd(desc, Engine(), hint);
    slot = std::make_unique<ConvEntry>();
    slot->prim = dnnl::convolution_backward_weights(pd);
    slot->weights_md = pd.diff_weights_desc();
    PrepareReorder(*slot, d.weights_user, false);
    Note("conv backward weights", ShapeText(p), pd.impl_info_str());
  }
  ConvEntry& e = *slot;
  memory src(d.src, Engine(), const_cast<float*>(x));
  memory diff_dst(d.dst, Engine(), const_cast<float*>(dy));
  memory user_dw(d.weights_user, Engine(), dw);
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, e.reorder ? *e.internal : user_dw}});
  if (e.reorder) e.to_user.execute(Stream(), *e.internal, user_dw);
  Stream().wait();
}

namespace {
struct MatMulEntry {
  dnnl::primitive prim;
  memory::desc a, b, bias, c;
};
std::map<Key, std::unique_ptr<MatMulEntry>>& MatMulCache() {
  static std::map<Key, std::unique_ptr<MatMulEntry>> cache;
  return cache;
}
}  // namespace

void MatMul(const MatMulParams& p, const float* a, const float* b, const float* bias, float* c) {
  std::lock_guard<std::mutex> guard(Lock());
  Key key{p.batch, p.m, p.k, p.n, p.transA, p.transB, p.relu, bias ? 1 : 0};
  auto& slot = MatMulCache()[key];
  if (!slot) {
    slot = std::make_unique<MatMulEntry>();
    // Transposes are strides: a [b, m, k] stored as [b, k, m] has strides (m*k, 1, m).
    slot->a = memory::desc({p.batch, p.m, p.k}, dt::f32, p.transA ? memory::dims{p.m * p.k, 1, p.m} : memory::dims{p.m * p.k, p.k, 1});
    slot->b = memory::desc({p.batch, p.k, p.n}, dt::f32, p.transB ? memory::dims{p.k * p.n, 1, p.k} : memory::dims{p.k * p.n, p.n, 1});
    slot->c = memory::desc({p.batch, p.m, p.n}, dt::f32, memory::dims{p.m * p.n, p.n, 1});
    slot->bias = memory::desc({1, 1, p.n}, dt::f32, memory::dims{p.n, p.n, 1});
    auto desc = bias ? dnnl::matmul::desc(slot->a, slot->b, slot->bias, slot->c) : dnnl::matmul::desc(slot->a, slot->b, slot->c);
    dnnl::primitive_attr attr;
    if (p.relu) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::primitive_desc pd(desc, attr, Engine());
    slot->prim = dnnl::matmul(pd);
    char shape[128];
    snprintf(shape, sizeof shape, "[%lld x %lld x %lld] x %lld", (long long)p.m, (long long)p.k, (long long)p.n, (long long)p.batch);
    Note("matmul", shape, pd.impl_info_str());
  }
  MatMulEntry& e = *slot;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(e.a, Engine(), const_cast<float*>(a))},
                                       {DNNL_ARG_WEIGHTS, memory(e.b, Engine(), const_cast<float*>(b))},
                                       {DNNL_ARG_DST, memory(e.c, Engine(), c)}};
  if (bias) args.insert({DNNL_ARG_BIAS, memory(e.bias, Engine(), const_cast<float*>(bias))});
  e.prim.execute(Stream(), args);
  Stream().wait();
}

std::string ImplementationReport() {
  std::lock_guard<std::mutex> guard(Lock());
  std::string out;
  for (const auto& line : Implementations()) out += line + "\n";
  return out;
}

}  // namespace realfake
