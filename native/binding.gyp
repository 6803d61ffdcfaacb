{
  "variables": {
    # native/build.js sets it to 1 when libjpeg-turbo's headers are installed (Debian: libjpeg62-turbo-dev).
    "with_jpeg%": 0
  },
  "targets": [
    {
      "target_name": "realfake_native",
      "sources": ["src/addon.cc", "src/dnnl_kernels.cc", "src/simple_kernels.cc"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"],
      "conditions": [
        ["with_jpeg==1", {
          "sources": ["src/jpeg_decode.cc"],
          "defines": ["REALFAKE_JPEG"],
          "libraries": ["-ljpeg"]
        }]
      ]
    }
  ]
}
