{
  "targets": [
    {
      "target_name": "realfake_native",
      "sources": ["src/addon.cc", "src/dnnl_kernels.cc", "src/simple_kernels.cc"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
