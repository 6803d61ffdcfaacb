// Node-API bindings: every function takes Float32Arrays that tfjs's CPU backend owns (read and written in
// place, no copies) and an Int32Array/Float64Array of shape parameters. Errors become JS exceptions.
#include <malloc.h>
#include <node_api.h>
#include <omp.h>

#include <climits>
#include <memory>

#include <dnnl.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "dnnl_kernels.h"
#include "simple_kernels.h"
#ifdef REALFAKE_JPEG
#include "jpeg_decode.h"
#endif

namespace {

using namespace realfake;

struct Args {
  napi_env env;
  std::vector<napi_value> values;
};

void Check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw std::runtime_error(std::string("native: ") + what);
}

Args GetArgs(napi_env env, napi_callback_info info, size_t expected) {
  Args a{env, std::vector<napi_value>(expected)};
  size_t argc = expected;
  Check(env, napi_get_cb_info(env, info, &argc, a.values.data(), nullptr, nullptr), "bad call");
  if (argc < expected) throw std::runtime_error("native: expected " + std::to_string(expected) + " arguments");
  return a;
}

// A Float32Array argument's data (nullptr for null/undefined when optional), checked for length.
float* F32(const Args& a, size_t i, size_t min_length, bool optional = false) {
  napi_valuetype type;
  Check(a.env, napi_typeof(a.env, a.values[i], &type), "typeof");
  if (optional && (type == napi_null || type == napi_undefined)) return nullptr;
  bool is_typed = false;
  Check(a.env, napi_is_typedarray(a.env, a.values[i], &is_typed), "is_typedarray");
  if (!is_typed) throw std::runtime_error("native: argument " + std::to_string(i) + " must be a Float32Array");
  napi_typedarray_type kind;
  size_t length;
  void* data;
  Check(a.env, napi_get_typedarray_info(a.env, a.values[i], &kind, &length, &data, nullptr, nullptr), "typedarray_info");
  if (kind != napi_float32_array) throw std::runtime_error("native: argument " + std::to_string(i) + " must be a Float32Array");
  if (length < min_length) {
    throw std::runtime_error("native: argument " + std::to_string(i) + " has " + std::to_string(length) + " elements, needs " +
                             std::to_string(min_length));
  }
  return static_cast<float*>(data);
}

// An array of numbers (integers up to 2^53 or floats) given as a Float64Array.
std::vector<double> Numbers(const Args& a, size_t i, size_t count) {
  napi_typedarray_type kind;
  size_t length;
  void* data;
  Check(a.env, napi_get_typedarray_info(a.env, a.values[i], &kind, &length, &data, nullptr, nullptr), "params");
  if (kind != napi_float64_array || length != count) {
    throw std::runtime_error("native: argument " + std::to_string(i) + " must be a Float64Array of " + std::to_string(count));
  }
  const double* d = static_cast<double*>(data);
  return std::vector<double>(d, d + count);
}

ConvParams Conv(const Args& a, size_t i) {
  auto v = Numbers(a, i, 18);
  ConvParams p;
  int64_t* fields[] = {&p.n, &p.ih, &p.iw, &p.ic, &p.kh, &p.kw, &p.oc, &p.oh, &p.ow, &p.sh,
                       &p.sw, &p.dh, &p.dw, &p.pt, &p.pl, &p.pb, &p.pr, &p.relu};
  for (size_t k = 0; k < 18; k++) *fields[k] = static_cast<int64_t>(v[k]);
  return p;
}

PoolParams Pool(const Args& a, size_t i) {
  auto v = Numbers(a, i, 14);
  PoolParams p;
  int64_t* fields[] = {&p.n, &p.ih, &p.iw, &p.c, &p.oh, &p.ow, &p.fh, &p.fw, &p.sh, &p.sw, &p.dh, &p.dw, &p.pt, &p.pl};
  for (size_t k = 0; k < 14; k++) *fields[k] = static_cast<int64_t>(v[k]);
  return p;
}


template <typename F>
napi_value Guard(napi_env env, F&& f) {
  try {
    f();
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

#define REALFAKE_FN(NAME, ARGC, ...)                         \
  napi_value NAME(napi_env env, napi_callback_info info) {    \
    return Guard(env, [&] {                                   \
      Args a = GetArgs(env, info, ARGC);                      \
      __VA_ARGS__;                                            \
    });                                                       \
  }

// convForward(x, filter, bias | null, y, params)
REALFAKE_FN(ConvForwardJs, 5, {
  ConvParams p = Conv(a, 4);
  ConvForward(p, F32(a, 0, p.n * p.ih * p.iw * p.ic), F32(a, 1, p.kh * p.kw * p.ic * p.oc), F32(a, 2, p.oc, true),
              F32(a, 3, p.n * p.oh * p.ow * p.oc));
})

// convBackwardData(dy, filter, dx, params)
REALFAKE_FN(ConvBackwardDataJs, 4, {
  ConvParams p = Conv(a, 3);
  ConvBackwardData(p, F32(a, 0, p.n * p.oh * p.ow * p.oc), F32(a, 1, p.kh * p.kw * p.ic * p.oc), F32(a, 2, p.n * p.ih * p.iw * p.ic));
})

// convBackwardFilter(x, dy, dw, params)
REALFAKE_FN(ConvBackwardFilterJs, 4, {
  ConvParams p = Conv(a, 3);
  ConvBackwardWeights(p, F32(a, 0, p.n * p.ih * p.iw * p.ic), F32(a, 1, p.n * p.oh * p.ow * p.oc), F32(a, 2, p.kh * p.kw * p.ic * p.oc));
})

// matMul(a, b, bias | null, c, [batch, m, k, n, transA, transB, relu])
REALFAKE_FN(MatMulJs, 5, {
  auto v = Numbers(a, 4, 7);
  MatMulParams p{(int64_t)v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3], (int64_t)v[4], (int64_t)v[5], (int64_t)v[6]};
  MatMul(p, F32(a, 0, p.batch * p.m * p.k), F32(a, 1, p.batch * p.k * p.n), F32(a, 2, p.n, true), F32(a, 3, p.batch * p.m * p.n));
})

// maxPool(x, y, params), maxPoolGrad(dy, x, dx, params), avgPool(x, y, params), avgPoolGrad(dy, dx, params)
REALFAKE_FN(MaxPoolJs, 3, {
  PoolParams p = Pool(a, 2);
  MaxPool(p, F32(a, 0, p.n * p.ih * p.iw * p.c), F32(a, 1, p.n * p.oh * p.ow * p.c));
})
REALFAKE_FN(MaxPoolGradJs, 4, {
  PoolParams p = Pool(a, 3);
  MaxPoolGrad(p, F32(a, 0, p.n * p.oh * p.ow * p.c), F32(a, 1, p.n * p.ih * p.iw * p.c), F32(a, 2, p.n * p.ih * p.iw * p.c));
})
REALFAKE_FN(AvgPoolJs, 3, {
  PoolParams p = Pool(a, 2);
  AvgPool(p, F32(a, 0, p.n * p.ih * p.iw * p.c), F32(a, 1, p.n * p.oh * p.ow * p.c));
})
REALFAKE_FN(AvgPoolGradJs, 3, {
  PoolParams p = Pool(a, 2);
  AvgPoolGrad(p, F32(a, 0, p.n * p.oh * p.ow * p.c), F32(a, 1, p.n * p.ih * p.iw * p.c));
})

// add/mul/sub(a, b, out, [n, bn])
#define REALFAKE_BINARY_FN(NAME, OP)                                                   \
  REALFAKE_FN(NAME, 4, {                                                               \
    auto v = Numbers(a, 3, 2);                                                         \
    int64_t n = (int64_t)v[0], bn = (int64_t)v[1];                                     \
    if (bn <= 0 || n % bn) throw std::runtime_error("native: broadcast size must divide the size"); \
    OP(F32(a, 0, n), F32(a, 1, bn), F32(a, 2, n), n, bn);                              \
  })
REALFAKE_BINARY_FN(AddJs, Add)
REALFAKE_BINARY_FN(MulJs, Mul)
REALFAKE_BINARY_FN(SubJs, Sub)
REALFAKE_BINARY_FN(DivJs, Div)

// spaceToBatch(x, out, params), batchToSpace(x, out, params): params [batch, h, w, c, bh, bw, top, left, oh, ow]
BlockParams Block(const Args& a, size_t i) {
  auto v = Numbers(a, i, 10);
  return BlockParams{(int64_t)v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3], (int64_t)v[4],
                     (int64_t)v[5], (int64_t)v[6], (int64_t)v[7], (int64_t)v[8], (int64_t)v[9]};
}
REALFAKE_FN(SpaceToBatchJs, 3, {
  BlockParams p = Block(a, 2);
  SpaceToBatch(p, F32(a, 0, p.batch * p.h * p.w * p.c), F32(a, 1, p.bh * p.bw * p.batch * p.oh * p.ow * p.c));
})
REALFAKE_FN(BatchToSpaceJs, 3, {
  BlockParams p = Block(a, 2);
  BatchToSpace(p, F32(a, 0, p.bh * p.bw * p.batch * p.oh * p.ow * p.c), F32(a, 1, p.batch * p.h * p.w * p.c));
})

// relu(x, out, [n]), step(x, out, [n, alpha])
REALFAKE_FN(ReluJs, 3, {
  auto v = Numbers(a, 2, 1);
  Relu(F32(a, 0, (int64_t)v[0]), F32(a, 1, (int64_t)v[0]), (int64_t)v[0]);
})
REALFAKE_FN(StepJs, 3, {
  auto v = Numbers(a, 2, 2);
  Step(F32(a, 0, (int64_t)v[0]), F32(a, 1, (int64_t)v[0]), (int64_t)v[0], (float)v[1]);
})

// sumRows(x, out, [rows, cols])
REALFAKE_FN(SumRowsJs, 3, {
  auto v = Numbers(a, 2, 2);
  int64_t rows = (int64_t)v[0], cols = (int64_t)v[1];
  SumRows(F32(a, 0, rows * cols), F32(a, 1, cols), rows, cols);
})

// adam(value, m, v, g, [n, -lr, beta1, beta2, 1 - beta1, 1 - beta2, epsilon, 1 - beta1^t, 1 - beta2^t])
REALFAKE_FN(AdamJs, 5, {
  auto v = Numbers(a, 4, 9);
  int64_t n = (int64_t)v[0];
  AdamParams p{(float)v[1], (float)v[2], (float)v[3], (float)v[4], (float)v[5], (float)v[6], (float)v[7], (float)v[8]};
  Adam(F32(a, 0, n), F32(a, 1, n), F32(a, 2, n), F32(a, 3, n), n, p);
})

napi_value InfoJs(napi_env env, napi_callback_info) {
  const dnnl_version_t* version = dnnl_version();
  std::string text = "oneDNN " + std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
                     std::to_string(version->patch) + ", " + std::to_string(Threads()) + " threads\n" + ImplementationReport();
  napi_value out;
  napi_create_string_utf8(env, text.c_str(), text.size(), &out);
  return out;
}

// Large tensors (a 128 px batch's first activations are 134 MB) are allocated and freed dozens of times per
// training step. glibc serves such blocks with mmap and returns them with munmap, so every op pays a page fault
// per 4 KB of its output (and the TLB shootdowns of a multi-threaded process): measured, that made the ReLU,
// bias and pooling passes cost 4x their arithmetic. Keeping large blocks in the heap (no mmap, no trimming)
// lets them be reused warm; freed memory stays with the process, so RSS stays at its peak rather than falling back.
// So it is switched on by training only (LocalStepper, lib/train/train.ts, through lib/backend/native-backend.ts):
// predict and preprocess decode huge images one after another and must give that memory back (issue 13's budget).
bool large_blocks_in_heap = false;

napi_value KeepLargeBlocksInHeapJs(napi_env env, napi_callback_info) {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  large_blocks_in_heap = true;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

// Whether keepLargeBlocksInHeap ran in this process (tests check that training, and only training, asks for it).
napi_value LargeBlocksInHeapJs(napi_env env, napi_callback_info) {
  napi_value out;
  napi_get_boolean(env, large_blocks_in_heap, &out);
  return out;
}

#ifdef REALFAKE_JPEG
// A typed array argument of the given kind: its data and element count.
template <typename T>
T* Typed(const Args& a, size_t i, napi_typedarray_type want, const char* what, size_t* length) {
  bool is_typed = false;
  Check(a.env, napi_is_typedarray(a.env, a.values[i], &is_typed), "is_typedarray");
  napi_typedarray_type kind;
  void* data = nullptr;
  if (is_typed) Check(a.env, napi_get_typedarray_info(a.env, a.values[i], &kind, length, &data, nullptr, nullptr), "typedarray_info");
  if (!is_typed || kind != want) throw std::runtime_error("native: argument " + std::to_string(i) + " must be a " + what);
  return static_cast<T*>(data);
}

std::vector<int32_t> Indices(const Args& a, size_t i) {
  napi_valuetype type;
  Check(a.env, napi_typeof(a.env, a.values[i], &type), "typeof");
  if (type == napi_null || type == napi_undefined) return {};
  size_t length;
  const int32_t* data = Typed<int32_t>(a, i, napi_int32_array, "Int32Array", &length);
  return std::vector<int32_t>(data, data + length);  // copied: the worker thread never touches JS memory but these two
}

// One decode on libuv's thread pool; the JS buffers it reads and writes are kept alive by references.
struct JpegJob {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref jpeg_ref = nullptr, out_ref = nullptr;
  JpegRequest request{};
  std::string error;
};

void JpegExecute(napi_env, void* data) {
  auto* job = static_cast<JpegJob*>(data);
  job->error = DecodeJpeg(job->request);
}

void JpegComplete(napi_env env, napi_status status, void* data) {
  auto* job = static_cast<JpegJob*>(data);
  if (status != napi_ok && job->error.empty()) job->error = "decode cancelled";
  if (job->error.empty()) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, job->error.c_str(), job->error.size(), &message);
    napi_create_error(env, nullptr, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_reference(env, job->jpeg_ref);
  napi_delete_reference(env, job->out_ref);
  napi_delete_async_work(env, job->work);
  delete job;
}

// decodeJpeg(jpeg, out, [width, height, skipRows], xs | null, ys | null): Promise<void>, rejected with libjpeg's
// reason when the file does not decode cleanly.
napi_value DecodeJpegJs(napi_env env, napi_callback_info info) {
  auto job = std::make_unique<JpegJob>();
  try {
    Args a = GetArgs(env, info, 5);
    JpegRequest& r = job->request;
    size_t jpeg_size, out_size;
    r.jpeg = Typed<uint8_t>(a, 0, napi_uint8_array, "Uint8Array", &jpeg_size);
    r.out = Typed<uint8_t>(a, 1, napi_uint8_array, "Uint8Array", &out_size);
    r.jpeg_size = jpeg_size;
    r.out_size = out_size;
    auto v = Numbers(a, 2, 3);
    r.width = static_cast<int64_t>(v[0]);
    r.height = static_cast<int64_t>(v[1]);
    r.skip_rows = v[2] != 0;
    r.xs = Indices(a, 3);
    r.ys = Indices(a, 4);
    if (r.width <= 0 || r.height <= 0) throw std::runtime_error("native: bad image size");
    if (r.xs.empty() != r.ys.empty()) throw std::runtime_error("native: give both xs and ys, or neither");
    for (size_t k = 0; k < r.xs.size(); k++) {
      if (r.xs[k] < -1 || r.xs[k] >= r.width) throw std::runtime_error("native: column index out of range");
    }
    for (size_t k = 0; k < r.ys.size(); k++) {
      if (r.ys[k] < -1 || r.ys[k] >= r.height) throw std::runtime_error("native: row index out of range");
      if (k > 0 && r.ys[k] != -1 && (r.ys[k - 1] == -1 || r.ys[k] < r.ys[k - 1])) {
        throw std::runtime_error("native: row indices must be non-decreasing, with -1 only at the end");
      }
    }
    const size_t needed = r.xs.empty() ? static_cast<size_t>(r.width) * r.height * 3 : r.xs.size() * r.ys.size() * 3;
    if (out_size < needed) throw std::runtime_error("native: output has " + std::to_string(out_size) + " bytes, needs " + std::to_string(needed));
    Check(env, napi_create_reference(env, a.values[0], 1, &job->jpeg_ref), "reference");
    Check(env, napi_create_reference(env, a.values[1], 1, &job->out_ref), "reference");
    napi_value promise, name;
    Check(env, napi_create_promise(env, &job->deferred, &promise), "promise");
    napi_create_string_utf8(env, "realfake.decodeJpeg", NAPI_AUTO_LENGTH, &name);
    Check(env, napi_create_async_work(env, nullptr, name, JpegExecute, JpegComplete, job.get(), &job->work), "async work");
    Check(env, napi_queue_async_work(env, job->work), "queue");
    job.release();
    return promise;
  } catch (const std::exception& e) {
    if (job->jpeg_ref) napi_delete_reference(env, job->jpeg_ref);
    if (job->out_ref) napi_delete_reference(env, job->out_ref);
    napi_throw_error(env, nullptr, e.what());
    return nullptr;
  }
}

// jpegHeader(jpeg): [width, height, components, exif (0 or 1)] of a JPEG decodeJpeg takes, or null.
napi_value JpegHeaderJs(napi_env env, napi_callback_info info) {
  napi_value result = nullptr;
  Guard(env, [&] {
    Args a = GetArgs(env, info, 1);
    size_t size;
    const uint8_t* jpeg = Typed<uint8_t>(a, 0, napi_uint8_array, "Uint8Array", &size);
    JpegHeaderInfo header;
    if (!JpegHeader(jpeg, size, &header)) {
      napi_get_null(env, &result);
      return;
    }
    const double values[4] = {static_cast<double>(header.width), static_cast<double>(header.height),
                              static_cast<double>(header.components), header.exif ? 1.0 : 0.0};
    napi_create_array_with_length(env, 4, &result);
    for (uint32_t i = 0; i < 4; i++) {
      napi_value v;
      napi_create_double(env, values[i], &v);
      napi_set_element(env, result, i, v);
    }
  });
  return result;
}

napi_value JpegVersionJs(napi_env env, napi_callback_info) {
  std::string text = JpegVersion();
  napi_value out;
  napi_create_string_utf8(env, text.c_str(), text.size(), &out);
  return out;
}
#endif

napi_value Init(napi_env env, napi_value exports) {
  struct Entry {
    const char* name;
    napi_callback fn;
  } entries[] = {
      {"convForward", ConvForwardJs}, {"convBackwardData", ConvBackwardDataJs}, {"convBackwardFilter", ConvBackwardFilterJs},
      {"matMul", MatMulJs},           {"maxPool", MaxPoolJs},                   {"maxPoolGrad", MaxPoolGradJs},
      {"avgPool", AvgPoolJs},         {"avgPoolGrad", AvgPoolGradJs},           {"add", AddJs},
      {"mul", MulJs},                 {"sub", SubJs}, {"div", DivJs}, {"spaceToBatch", SpaceToBatchJs}, {"batchToSpace", BatchToSpaceJs},                           {"relu", ReluJs},
      {"step", StepJs},               {"sumRows", SumRowsJs},                   {"adam", AdamJs},
      {"info", InfoJs},               {"keepLargeBlocksInHeap", KeepLargeBlocksInHeapJs},
      {"largeBlocksInHeap", LargeBlocksInHeapJs},
  };
  for (const auto& e : entries) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
#ifdef REALFAKE_JPEG
  // Only present when built against libjpeg-turbo's headers (native/build.js): JS checks for them.
  for (const auto& e : {Entry{"decodeJpeg", DecodeJpegJs}, Entry{"jpegHeader", JpegHeaderJs}, Entry{"jpegVersion", JpegVersionJs}}) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
#endif
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
